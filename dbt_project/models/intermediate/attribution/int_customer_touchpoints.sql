{#-
    Touchpoints with the customer they belong to, across devices through the identity graph
    (int_journey_members: visitor and device records via int_record_customers, email addresses via
    the customer identifiers). journey_key is the customer_key, or the visitor/device/address when it
    resolves to no customer. An email click is dropped when the same person's session from that email
    campaign starts within a day of it (webhook clocks lag): the session is the click's landing,
    counted once. Incremental: the journeys changed in int_journey_members since the table's
    watermark (members_assigned_at: the latest members run it reflects) are deleted and rebuilt from
    all their touchpoints (macros/journey_rewrites.sql).
-#}
{{ config(
    materialized='incremental', unique_key='journey_key', incremental_strategy='delete+insert',
    delete_keys_in='journey_rewrites',
) }}
with

rewrites as (

    {{ journey_rewrites(this) }}

),

touchpoints as (

    select * from {{ ref('int_touchpoint_channels') }}

),

members as (

    select
        identifier_type,
        identifier_value,
        customer_key,
        journey_key
    from (
        select
            *,
            row_number() over (
                partition by identifier_type, identifier_value order by assigned_at desc
            ) as recency
        from {{ ref('int_journey_members') }}
        where identifier_type != 'order_key'
    ) as history
    where
        recency = 1
        {% if is_incremental() %}and journey_key in (select journey_key from rewrites){% endif %}

),

journeys as (

    select
        touchpoints.*,
        members.customer_key,
        members.journey_key
    from touchpoints
    inner join members
        on
            touchpoints.identifier_type = members.identifier_type
            and touchpoints.identifier_value = members.identifier_value

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
        journeys.channel,
        {{ journey_watermark(ref('int_journey_members'), 'assigned_at') }} as members_assigned_at
    from journeys
    left join landed_email_clicks
        on journeys.touchpoint_id = landed_email_clicks.touchpoint_id
    where landed_email_clicks.touchpoint_id is null

)

select * from final
