{#- Valuable customers drifting away who may be emailed: consented, reachable, not suppressed. -#}
with

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

email_suppressions as (

    select * from {{ ref('int_email_suppressions') }}

),

final as (

    select
        customer_rfm.customer_key,
        customers.email,
        customers.first_name,
        customer_rfm.segment,
        customer_rfm.recency_days,
        customer_rfm.monetary,
        'at_risk_email' as audience
    from customer_rfm
    inner join customers
        on customer_rfm.customer_key = customers.customer_key
    left join email_suppressions
        on customers.email = email_suppressions.email
    where
        customer_rfm.segment in ('At risk', '{{ dbt.escape_single_quotes("Can't lose them") }}')
        and customers.email_consent = 'granted'
        and customers.email is not null
        and email_suppressions.email is null

)

select * from final
