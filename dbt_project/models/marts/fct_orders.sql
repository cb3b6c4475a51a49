with

orders as (

    select * from {{ ref('int_orders_netted') }}

),

final as (

    select
        orders.order_key,
        orders.order_source,
        orders.source_order_id,
        orders.customer_key,
        orders.ordered_at,
        orders.currency,
        orders.gross_amount,
        orders.discount_amount,
        orders.refunded_amount,
        orders.net_amount,
        orders.status,
        orders.is_countable,
        orders.reporting_currency,
        orders.exchange_rate,
        orders.net_amount_reporting,
        orders.has_exchange_rate,
        orders.is_future_dated
    from orders

)

select * from final
