{#- Shop orders and POS transactions in one shape, amounts as delivered, statuses normalised. -#}
with

shop_orders as (

    select * from {{ ref('stg_shop__orders') }}

),

pos_transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

shop_unified as (

    select
        'shop' as order_source,
        'orders' as source_entity,
        shop_orders.order_id as source_order_id,
        shop_orders.ordered_at,
        shop_orders.currency,
        shop_orders.total_amount as gross_amount,
        coalesce(shop_orders.discount_amount, 0) as discount_amount,
        shop_orders.refunded_amount as reported_refunded_amount,
        shop_orders.status,
        shop_orders.loaded_at
    from shop_orders

),

pos_unified as (

    select
        'pos' as order_source,
        'transactions' as source_entity,
        pos_transactions.transaction_id as source_order_id,
        pos_transactions.occurred_at as ordered_at,
        pos_transactions.currency,
        pos_transactions.total_amount as gross_amount,
        cast(0 as decimal(18, 2)) as discount_amount,
        cast(null as decimal(18, 2)) as reported_refunded_amount,
        case
            when lower(pos_transactions.status) in ('cancelled', 'canceled', 'void', 'voided')
                then 'cancelled'
            when lower(pos_transactions.status) in ('refunded', 'refund', 'returned') then 'refunded'
            else 'paid'
        end as status,
        pos_transactions.loaded_at
    from pos_transactions

),

final as (

    select * from shop_unified
    union all
    select * from pos_unified

)

select * from final
