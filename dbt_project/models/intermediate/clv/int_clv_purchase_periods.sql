{#-
    Purchase periods: the periods of var clv_time_unit (day | week) in which a customer placed
    countable orders up to the as-of date. Several orders in one period are one purchase, as in the
    buy-till-you-die summaries (Fader, Hardie & Lee), worth their summed net amount.
-#}
with

countable_orders as (

    select * from {{ ref('int_orders_countable') }}

),

periods as (

    select
        countable_orders.customer_key,
        cast({{ dbt.date_trunc(var('clv_time_unit'), 'countable_orders.order_date') }} as date)
            as period_start,
        count(*) as order_count,
        sum(countable_orders.net_amount) as period_value
    from countable_orders
    group by
        countable_orders.customer_key,
        cast({{ dbt.date_trunc(var('clv_time_unit'), 'countable_orders.order_date') }} as date)

),

final as (

    select
        periods.customer_key,
        periods.period_start,
        periods.order_count,
        periods.period_value,
        row_number() over (
            partition by periods.customer_key order by periods.period_start
        ) as period_number,
        count(*) over (partition by periods.customer_key) as period_count,
        min(periods.period_start) over (partition by periods.customer_key) as first_period_start,
        lag(periods.period_start) over (
            partition by periods.customer_key order by periods.period_start
        ) as previous_period_start
    from periods

)

select * from final
