{#- Buyers at moderate or severe churn risk who may be texted: SMS consent granted, a phone number. -#}
with

customer_clv as (

    select * from {{ ref('customer_clv') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        customer_clv.customer_key,
        customers.phone,
        customers.first_name,
        customer_clv.churn_tier,
        customer_clv.clv,
        'winback_sms' as audience
    from customer_clv
    inner join customers
        on customer_clv.customer_key = customers.customer_key
    where
        customer_clv.churn_tier in ('moderate', 'severe')
        and customers.sms_consent = 'granted'
        and customers.phone is not null
        and customers.first_name is not null

)

select * from final
