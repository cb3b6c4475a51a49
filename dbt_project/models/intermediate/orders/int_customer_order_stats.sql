{#-
    Lifetime purchase stats per customer, from countable orders up to the as-of date. net_revenue
    sums the orders priced in the reporting currency (0 when none is); unpriced_order_count counts
    the others (a currency without an exchange rate).
-#}
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
        coalesce(sum(countable_orders.net_amount), 0) as net_revenue,
        count(*) - count(countable_orders.net_amount) as unpriced_order_count
    from countable_orders
    group by countable_orders.customer_key

)

select * from final
