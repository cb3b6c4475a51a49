{#-
    One profile per customer. Survivorship: email and phone come from the most trusted source that
    has one (crm, then shop, then pos, then web, then email/sms events), the most recently seen value
    within it; excluded (shared) addresses never survive. Names, country, city and birth date come
    from the customer's CRM contacts: per attribute, the most recently updated non-null value.
-#}
with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

ranked_addresses as (

    select
        customer_identifiers.customer_key,
        customer_identifiers.identifier_type,
        customer_identifiers.identifier_value,
        row_number() over (
            partition by customer_identifiers.customer_key, customer_identifiers.identifier_type
            order by
                min(case observations.source
                    when 'crm' then 1 when 'shop' then 2 when 'pos' then 3 when 'web' then 4 else 5
                end),
                max(observations.last_seen_at) desc,
                customer_identifiers.identifier_value
        ) as address_rank
    from customer_identifiers
    inner join observations
        on
            customer_identifiers.identifier_type = observations.identifier_type
            and customer_identifiers.identifier_value = observations.identifier_value
    where
        customer_identifiers.customer_key is not null
        and customer_identifiers.identifier_type in ('email', 'phone')
    group by
        customer_identifiers.customer_key, customer_identifiers.identifier_type, customer_identifiers.identifier_value

),

contact_attributes as (

    select distinct
        record_customers.customer_key,
    {% for attribute in ['first_name', 'last_name', 'country', 'city', 'birth_date'] -%}
        {{ latest_non_null(
            'contacts.' ~ attribute, 'record_customers.customer_key', 'contacts.updated_at desc, contacts.contact_id'
        ) }}
            as {{ attribute }}{{ ',' if not loop.last }}
    {% endfor %}
    from contacts
    inner join record_customers
        on
            record_customers.source = 'crm'
            and contacts.contact_id = record_customers.record_id
    where record_customers.customer_key is not null

),

final as (

    select
        customers.customer_key,
        max(case when ranked_addresses.identifier_type = 'email' then ranked_addresses.identifier_value end) as email,
        max(case when ranked_addresses.identifier_type = 'phone' then ranked_addresses.identifier_value end) as phone,
        max(contact_attributes.first_name) as first_name,
        max(contact_attributes.last_name) as last_name,
        max(contact_attributes.country) as country,
        max(contact_attributes.city) as city,
        max(contact_attributes.birth_date) as birth_date
    from (
        select distinct customer_key from customer_identifiers
        where customer_key is not null
    ) as customers
    left join ranked_addresses
        on customers.customer_key = ranked_addresses.customer_key and ranked_addresses.address_rank = 1
    left join contact_attributes on customers.customer_key = contact_attributes.customer_key
    group by customers.customer_key

)

select * from final
