{#- Customers in their first days (lifecycle stage new) to welcome, by email, through a signed webhook. -#}
with

customer_lifecycle as (

    select * from {{ ref('customer_lifecycle') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        customer_lifecycle.customer_key,
        customers.email,
        customers.first_name,
        customer_lifecycle.days_since_first_purchase,
        'welcome_webhook' as audience
    from customer_lifecycle
    inner join customers
        on customer_lifecycle.customer_key = customers.customer_key
    where
        customer_lifecycle.lifecycle_stage = 'new'
        and customers.email_consent = 'granted'
        and customers.email is not null

)

select * from final
