{#-
    Purchases that count for customer metrics: countable orders of known customers placed on or before
    the as-of date (var `as_of`; when empty, the latest order date in the data), never future-dated.
    net_amount is in the reporting currency: null for an order in a currency without an exchange
    rate, which still counts as a purchase (frequency, recency) but not in monetary sums.
-#}
with

orders as (

    select * from {{ ref('int_orders_netted') }}

),

as_of_date as (

    {{ as_of_date('orders') }}

),

final as (

    select
        orders.order_key,
        orders.customer_key,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.net_amount_reporting as net_amount,
        orders.currency as order_currency,
        orders.net_amount as order_net_amount,
        orders.has_exchange_rate,
        as_of_date.as_of
    from orders
    cross join as_of_date
    where
        orders.is_countable
        and orders.customer_key is not null
        and not orders.is_future_dated
        and cast(orders.ordered_at as date) <= as_of_date.as_of

)

select * from final
