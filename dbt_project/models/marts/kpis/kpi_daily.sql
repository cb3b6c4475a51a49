{#-
    Daily KPI series for the alerts (mercator.alerts): one row per (kpi_date, kpi, channel), complete
    days only: every day before the as-of date (var as_of; when empty, the latest order date in the
    data), whose data may still be arriving. A day is in the series when any source recorded activity
    on it (an order, a web session, an email or SMS event); a day with none is a gap, not a zero.
    value is null where its denominator is 0 (aov without orders, a rate without sessions or messages);
    volume is the count the value rests on (orders, new customers, sessions, messages delivered).
-#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

countable_orders as (

    select * from {{ ref('int_orders_countable') }}

),

web_sessions as (

    select * from {{ ref('int_web_sessions') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

as_of_date as (

    {{ as_of_date('orders') }}

),

activity_days as (

    select cast(ordered_at as date) as kpi_date from orders where not is_future_dated
    union
    select cast(started_at as date) as kpi_date from web_sessions
    union
    select cast(occurred_at as date) as kpi_date from email_events
    union
    select cast(occurred_at as date) as kpi_date from sms_events

),

days as (

    select activity_days.kpi_date
    from activity_days
    cross join as_of_date
    where activity_days.kpi_date < as_of_date.as_of

),

sales as (

    select
        cast(ordered_at as date) as kpi_date,
        order_source as channel,
        count(*) as orders,
        sum(coalesce(net_amount_reporting, 0)) as revenue
    from orders
    where is_countable and not is_future_dated
    group by cast(ordered_at as date), order_source

),

sales_channels as (

    select kpi_date, channel, orders, revenue from sales
    union all
    select kpi_date, 'all' as channel, sum(orders) as orders, sum(revenue) as revenue
    from sales
    group by kpi_date

),

first_orders as (

    select
        customer_key,
        min(order_date) as kpi_date
    from countable_orders
    group by customer_key

),

new_customers as (

    select kpi_date, count(*) as customers from first_orders group by kpi_date

),

sessions as (

    select cast(started_at as date) as kpi_date, count(*) as sessions
    from web_sessions
    group by cast(started_at as date)

),

messages as (

    select
        cast(occurred_at as date) as kpi_date,
        'email' as channel,
        sum(case when event = 'delivered' then 1 else 0 end) as delivered,
        sum(case when event = 'unsubscribe' then 1 else 0 end) as unsubscribed
    from email_events
    group by cast(occurred_at as date)
    union all
    select
        cast(occurred_at as date) as kpi_date,
        'sms' as channel,
        sum(case when message_status = 'delivered' then 1 else 0 end) as delivered,
        sum(
            case
                when message_status = 'received'
                    and upper(trim(body)) in ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT')
                    then 1
                else 0
            end
        ) as unsubscribed
    from sms_events
    group by cast(occurred_at as date)

),

sales_grid as (

    select
        days.kpi_date,
        channels.channel,
        coalesce(sales_channels.orders, 0) as orders,
        coalesce(sales_channels.revenue, 0) as revenue
    from days
    cross join (select distinct channel from sales_channels) as channels
    left join sales_channels
        on days.kpi_date = sales_channels.kpi_date and channels.channel = sales_channels.channel

),

kpis as (

    select kpi_date, 'revenue' as kpi, channel, cast(revenue as double) as value, orders as volume
    from sales_grid
    union all
    select kpi_date, 'orders' as kpi, channel, cast(orders as double) as value, orders as volume
    from sales_grid
    union all
    select kpi_date, 'aov' as kpi, channel, cast(revenue as double) / nullif(orders, 0) as value, orders as volume
    from sales_grid
    union all
    select
        days.kpi_date,
        'new_customers' as kpi,
        'all' as channel,
        cast(coalesce(new_customers.customers, 0) as double) as value,
        coalesce(new_customers.customers, 0) as volume
    from days
    left join new_customers on days.kpi_date = new_customers.kpi_date
    union all
    select
        days.kpi_date,
        'conversion' as kpi,
        'web' as channel,
        cast(coalesce(shop.orders, 0) as double) / nullif(sessions.sessions, 0) as value,
        coalesce(sessions.sessions, 0) as volume
    from days
    left join sessions on days.kpi_date = sessions.kpi_date
    left join sales_channels as shop on days.kpi_date = shop.kpi_date and shop.channel = 'shop'
    union all
    select
        days.kpi_date,
        'unsubscribe_rate' as kpi,
        channels.channel,
        cast(coalesce(messages.unsubscribed, 0) as double) / nullif(messages.delivered, 0) as value,
        coalesce(messages.delivered, 0) as volume
    from days
    cross join (select 'email' as channel union all select 'sms' as channel) as channels
    left join messages on days.kpi_date = messages.kpi_date and channels.channel = messages.channel

),

final as (

    select
        kpis.kpi_date,
        kpis.kpi,
        kpis.channel,
        kpis.value,
        cast(kpis.volume as bigint) as volume,
        as_of_date.as_of
    from kpis
    cross join as_of_date

)

select * from final
