{#-
    Seed audience for lookalike targeting: the top var activation_high_value_share of buyers by
    expected CLV with ads consent granted and an email or a phone (hashed by the destinations).
-#}
with

customer_clv as (

    select * from {{ ref('customer_clv') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

ranked as (

    select
        customer_clv.customer_key,
        customer_clv.clv,
        percent_rank() over (order by customer_clv.clv desc, customer_clv.customer_key asc) as clv_rank
    from customer_clv

),

final as (

    select
        ranked.customer_key,
        customers.email,
        customers.phone,
        ranked.clv,
        'high_value_ads' as audience
    from ranked
    inner join customers
        on ranked.customer_key = customers.customer_key
    where
        ranked.clv_rank < {{ var('activation_high_value_share') }}
        and customers.ads_consent = 'granted'
        and (customers.email is not null or customers.phone is not null)

)

select * from final
