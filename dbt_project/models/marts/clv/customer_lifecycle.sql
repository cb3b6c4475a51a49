{#- Lifecycle stage and churn risk of every customer in dim_customers; its history is snapshotted. -#}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

lifecycle_stages as (

    select * from {{ ref('int_customer_lifecycle_stages') }}

),

clv_settings as (

    select * from {{ ref('int_clv_settings') }}

),

final as (

    select
        customers.customer_key,
        customers.lifecycle_stage,
        customers.churn_tier,
        customers.p_alive,
        customers.clv,
        lifecycle_stages.days_since_first_purchase,
        lifecycle_stages.days_since_last_purchase,
        clv_settings.as_of
    from customers
    cross join clv_settings
    left join lifecycle_stages on customers.customer_key = lifecycle_stages.customer_key

)

select * from final
