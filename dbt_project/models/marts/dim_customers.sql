{#-
    One row per resolved person: a customer whose identifiers include an email, phone, customer_id,
    contact_id or loyalty_id, or who placed any order (cancelled ones included, so every
    fct_orders.customer_key has a row here). Browsing-only visitors and devices (anonymous_id or
    device_id alone) have a customer key in customer_identities but no row here. CLV, P(alive) and
    churn tier come from the fit_clv task (source ml; null without a purchase), the lifecycle stage
    from int_customer_lifecycle_stages (prospect without a purchase). An erased customer (one holding
    an identifier of int_erased_identifiers: an erasure request resolved to them, now or in an
    earlier run) keeps their row, consents and statistics, so that nobody contacts them again, but
    every personal attribute (email, phone, names, country, city, birth date) is null.
-#}
{%- set personal = ['email', 'phone', 'first_name', 'last_name', 'country', 'city', 'birth_date'] -%}
with

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

golden_records as (

    select * from {{ ref('int_identity_golden_records') }}

),

consents as (

    select * from {{ ref('int_identity_consents') }}

),

order_stats as (

    select * from {{ ref('int_customer_order_stats') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

clv_scores as (

    select * from {{ source('ml', 'customer_clv_scores') }}

),

lifecycle_stages as (

    select * from {{ ref('int_customer_lifecycle_stages') }}

),

erased_identifiers as (

    select * from {{ ref('int_erased_identifiers') }}

),

erased_customers as (

    select distinct customer_identifiers.customer_key
    from customer_identifiers
    inner join erased_identifiers
        on
            customer_identifiers.identifier_type = erased_identifiers.identifier_type
            and customer_identifiers.identifier_value = erased_identifiers.identifier_value
    where customer_identifiers.customer_key is not null

),

identified as (

    select distinct customer_key from customer_identifiers
    where
        customer_key is not null
        and identifier_type in ('email', 'phone', 'customer_id', 'contact_id', 'loyalty_id')
    union
    select customer_key from orders
    where customer_key is not null

),

final as (

    select
        golden_records.customer_key,
        {% for column in personal -%}
            case when erased_customers.customer_key is null then golden_records.{{ column }} end as {{ column }},
        {% endfor %}
        erased_customers.customer_key is not null as is_erased,
        consents.email_consent,
        consents.sms_consent,
        consents.push_consent,
        consents.ads_consent,
        consents.email_consent_updated_at,
        consents.sms_consent_updated_at,
        consents.push_consent_updated_at,
        consents.ads_consent_updated_at,
        order_stats.first_order_at,
        order_stats.last_order_at,
        clv_scores.clv,
        clv_scores.clv_lower,
        clv_scores.clv_upper,
        clv_scores.p_alive,
        clv_scores.churn_tier,
        coalesce(order_stats.order_count, 0) as order_count,
        coalesce(order_stats.net_revenue, 0) as net_revenue,
        coalesce(lifecycle_stages.lifecycle_stage, 'prospect') as lifecycle_stage
    from golden_records
    inner join consents on golden_records.customer_key = consents.customer_key
    left join order_stats on golden_records.customer_key = order_stats.customer_key
    left join clv_scores on golden_records.customer_key = clv_scores.customer_key
    left join lifecycle_stages on golden_records.customer_key = lifecycle_stages.customer_key
    left join erased_customers on golden_records.customer_key = erased_customers.customer_key
    where
        golden_records.customer_key in (select identified.customer_key from identified)

)

select * from final
