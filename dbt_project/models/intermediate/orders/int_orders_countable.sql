{#-
    Purchases that count for customer metrics: countable orders of known customers placed on or before
    the as-of date (var `as_of`; when empty, the latest order date in the data).
-#}
with

orders as (

    select * from {{ ref('int_orders_netted') }}

),

as_of_date as (

    select
        coalesce(
            cast(nullif('{{ var("as_of", "") }}', '') as date),
            max(cast(orders.ordered_at as date))
        ) as as_of
    from orders

),

final as (

    select
        orders.order_key,
        orders.customer_key,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.net_amount,
        as_of_date.as_of
    from orders
    cross join as_of_date
    where
        orders.is_countable
        and orders.customer_key is not null
        and cast(orders.ordered_at as date) <= as_of_date.as_of

)

select * from final
