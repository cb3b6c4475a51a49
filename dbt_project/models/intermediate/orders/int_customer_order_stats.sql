{#- Lifetime purchase stats per customer, from countable orders up to the as-of date. -#}
with

countable_orders as (

    select * from {{ ref('int_orders_countable') }}

),

final as (

    select
        countable_orders.customer_key,
        min(countable_orders.ordered_at) as first_order_at,
        max(countable_orders.ordered_at) as last_order_at,
        count(*) as order_count,
        sum(countable_orders.net_amount) as net_revenue
    from countable_orders
    group by countable_orders.customer_key

)

select * from final
