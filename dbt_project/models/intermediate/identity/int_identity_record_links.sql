{#- Identifiers carried together by one order, POS transaction or CRM contact (one link group each). -#}
{%- set no_value = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

final as (

    select
        'shop' as source,
        'orders' as entity,
        orders.order_id as record_id,
        {{ dbt.concat(["'shop:orders:'", 'orders.order_id']) }} as link_group_id,
        orders.ordered_at as first_seen_at,
        orders.ordered_at as last_seen_at,
        orders.email,
        orders.phone,
        orders.customer_id,
        {{ no_value }} as contact_id,
        {{ no_value }} as loyalty_id,
        orders.anonymous_id,
        {{ no_value }} as device_id
    from orders

    union all

    select
        'pos' as source,
        'transactions' as entity,
        transactions.transaction_id as record_id,
        {{ dbt.concat(["'pos:transactions:'", 'transactions.transaction_id']) }} as link_group_id,
        transactions.occurred_at as first_seen_at,
        transactions.occurred_at as last_seen_at,
        transactions.email,
        transactions.phone,
        {{ no_value }} as customer_id,
        {{ no_value }} as contact_id,
        transactions.loyalty_id,
        {{ no_value }} as anonymous_id,
        {{ no_value }} as device_id
    from transactions

    union all

    select
        'crm' as source,
        'contacts' as entity,
        contacts.contact_id as record_id,
        {{ dbt.concat(["'crm:contacts:'", 'contacts.contact_id']) }} as link_group_id,
        coalesce(contacts.created_at, contacts.updated_at) as first_seen_at,
        contacts.updated_at as last_seen_at,
        contacts.email,
        contacts.phone,
        contacts.customer_id,
        contacts.contact_id,
        contacts.loyalty_id,
        {{ no_value }} as anonymous_id,
        {{ no_value }} as device_id
    from contacts

)

select * from final
