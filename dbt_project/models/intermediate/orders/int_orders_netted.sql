{#-
    Refunds and cancellations netted out of every order, with the resolved customer.
    gross_amount is the amount charged (after discounts). A cancelled order nets to 0; an order with
    status refunded and no (or a zero) refunded amount is refunded in full; refunds are capped at the
    gross amount, so net_amount is never negative. A status unknown (not mapped by staging) is never
    countable.
    net_amount_reporting converts net_amount into the reporting currency (var default_currency) with
    seed currency_rates; it is null, and has_exchange_rate false, when the seed has no rate.
    is_future_dated: placed more than var future_tolerance_hours after the delivery that carried the
    order was loaded (a clock or data-entry error; false when the load time is unknown); such orders
    never count for as-of metrics.
-#}
with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}
    where upper(reporting_currency) = upper('{{ var("default_currency") }}')

),

refunds_resolved as (

    select
        orders.*,
        cast(
            case
                when orders.status = 'refunded' and coalesce(orders.reported_refunded_amount, 0) = 0
                    then orders.gross_amount
                when orders.reported_refunded_amount > orders.gross_amount then orders.gross_amount
                when orders.reported_refunded_amount < 0 then 0
                else coalesce(orders.reported_refunded_amount, 0)
            end
            as decimal(18, 2)
        ) as refunded_amount
    from orders

),

netted as (

    select
        {{ dbt.hash(dbt.concat([
            "refunds_resolved.order_source", "'|'", "refunds_resolved.source_order_id",
        ])) }} as order_key,
        refunds_resolved.order_source,
        refunds_resolved.source_order_id,
        record_customers.customer_key,
        refunds_resolved.ordered_at,
        refunds_resolved.currency,
        refunds_resolved.gross_amount,
        refunds_resolved.discount_amount,
        refunds_resolved.refunded_amount,
        cast(
            case
                when refunds_resolved.status = 'cancelled' then 0
                when refunds_resolved.gross_amount - refunds_resolved.refunded_amount < 0 then 0
                else refunds_resolved.gross_amount - refunds_resolved.refunded_amount
            end
            as decimal(18, 2)
        ) as net_amount,
        refunds_resolved.status,
        (
            refunds_resolved.status != 'cancelled'
            and refunds_resolved.gross_amount - refunds_resolved.refunded_amount > 0
            and refunds_resolved.status != 'unknown'
        ) as is_countable,
        coalesce(refunds_resolved.ordered_at > {{ dbt.dateadd(
            'hour', var('future_tolerance_hours'), 'refunds_resolved.loaded_at'
        ) }}, false) as is_future_dated
    from refunds_resolved
    left join record_customers
        on
            refunds_resolved.order_source = record_customers.source
            and refunds_resolved.source_entity = record_customers.entity
            and refunds_resolved.source_order_id = record_customers.record_id

),

final as (

    select
        netted.*,
        upper('{{ var("default_currency") }}') as reporting_currency,
        case
            when netted.currency = upper('{{ var("default_currency") }}') then 1
            else currency_rates.rate
        end as exchange_rate,
        cast(netted.net_amount * (
            case
                when netted.currency = upper('{{ var("default_currency") }}') then 1
                else currency_rates.rate
            end
        ) as decimal(18, 2)) as net_amount_reporting,
        (
            netted.currency = upper('{{ var("default_currency") }}')
            or currency_rates.rate is not null
        ) as has_exchange_rate
    from netted
    left join currency_rates
        on netted.currency = upper(currency_rates.currency)

)

select * from final
