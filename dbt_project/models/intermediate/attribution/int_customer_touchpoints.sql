{#-
    Touchpoints with the customer they belong to, across devices through the identity graph
    (visitor and device records via int_record_customers, email addresses via the customer
    identifiers). journey_key is the customer_key, or the visitor/device/address when it resolves
    to no customer. An email click is dropped when the same person's session from that email
    campaign starts within a day of it (webhook clocks lag): the session is the click's landing,
    counted once.
-#}
with

touchpoints as (

    select * from {{ ref('int_touchpoint_channels') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

keyed as (

    select
        touchpoints.*,
        coalesce(record_customers.customer_key, customer_identifiers.customer_key) as customer_key
    from touchpoints
    left join record_customers
        on
            touchpoints.identifier_value = record_customers.record_id
            and (
                (touchpoints.identifier_type = 'anonymous_id' and record_customers.entity = 'visitors')
                or (touchpoints.identifier_type = 'device_id' and record_customers.entity = 'devices')
            )
    left join customer_identifiers
        on
            touchpoints.identifier_type = 'email'
            and customer_identifiers.identifier_type = 'email'
            and touchpoints.identifier_value = customer_identifiers.identifier_value
            and not customer_identifiers.is_excluded

),

journeys as (

    select
        *,
        coalesce(customer_key, {{ dbt.concat(["identifier_type", "':'", "identifier_value"]) }}) as journey_key
    from keyed

),

landed_email_clicks as (

    select distinct clicks.touchpoint_id
    from journeys as clicks
    inner join journeys as sessions
        on
            clicks.journey_key = sessions.journey_key
            and clicks.campaign = sessions.campaign
            and sessions.medium = 'email'
            and sessions.touchpoint_type != 'email_click'
            and sessions.touched_at >= {{ dbt.dateadd('day', -1, 'clicks.touched_at') }}
            and sessions.touched_at <= {{ dbt.dateadd('day', 1, 'clicks.touched_at') }}
    where clicks.touchpoint_type = 'email_click'

),

final as (

    select
        journeys.touchpoint_id,
        journeys.touchpoint_type,
        journeys.journey_key,
        journeys.customer_key,
        journeys.touched_at,
        journeys.source,
        journeys.medium,
        journeys.campaign,
        journeys.has_click_id,
        journeys.channel
    from journeys
    left join landed_email_clicks
        on journeys.touchpoint_id = landed_email_clicks.touchpoint_id
    where landed_email_clicks.touchpoint_id is null

)

select * from final
