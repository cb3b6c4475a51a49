{#-
    The events journeys enter on (mercator.journeys): a customer's first identification, each
    begin_checkout of a web visitor who resolves to a customer, and each order. event_id is unique
    per event_name.
-#}
with

identities as (

    select * from {{ ref('customer_identities') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

identified as (

    select
        customer_key,
        'identified' as event_name,
        customer_key as event_id,
        min(first_seen_at) as occurred_at
    from identities
    where not is_excluded
    group by customer_key

),

checkouts as (

    select
        record_customers.customer_key,
        'begin_checkout' as event_name,
        web_events.event_id,
        web_events.occurred_at
    from web_events
    inner join record_customers
        on
            web_events.anonymous_id = record_customers.record_id
            and record_customers.entity = 'visitors'
    where web_events.event_name = 'begin_checkout' and record_customers.customer_key is not null

),

ordered as (

    select
        customer_key,
        'order' as event_name,
        order_key as event_id,
        ordered_at as occurred_at
    from orders
    where customer_key is not null

)

select * from identified
union all
select * from checkouts
union all
select * from ordered
