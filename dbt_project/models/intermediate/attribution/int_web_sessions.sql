{#-
    Web sessions: a visitor's (anonymous_id) events grouped into visits. A session ends after
    var session_timeout_minutes without an event; an event that brings a new campaign (utm_campaign,
    or utm_source/utm_medium when there is no campaign name) starts a new session at once.
    The session's acquisition fields come from its first event.
-#}
{{ config(materialized='incremental', unique_key='anonymous_id', incremental_strategy='delete+insert') }}
with

events as (

    select * from {{ ref('stg_web__events') }}
    where anonymous_id is not null and {{ key_has_new_deliveries(ref('stg_web__events'), 'anonymous_id') }}

),

flagged as (

    select
        event_id,
        anonymous_id,
        user_id,
        occurred_at,
        loaded_at,
        referrer,
        lower(utm_source) as utm_source,
        lower(utm_medium) as utm_medium,
        lower(utm_campaign) as utm_campaign,
        click_id,
        {{ dbt.datediff(
            'lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id)', 'occurred_at', 'second'
        ) }} as seconds_since_previous,
        lower(coalesce(utm_campaign, {{ dbt.concat(["utm_source", "'/'", "utm_medium"]) }})) as campaign_marker
    from events

),

started as (

    select
        *,
        case
            when seconds_since_previous is null then 1
            when seconds_since_previous > {{ var('session_timeout_minutes') }} * 60 then 1
            when campaign_marker is not null then 1
            else 0
        end as is_session_start
    from flagged

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id order by occurred_at, event_id rows between unbounded preceding and current row
        ) as session_number
    from started

),

final as (

    select
        {{ dbt.concat(["anonymous_id", "'#'", dbt.cast("session_number", dbt.type_string())]) }} as session_id,
        anonymous_id,
        session_number,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        max(loaded_at) as loaded_at,
        max(user_id) as user_id,
        max(case when is_session_start = 1 then referrer end) as referrer,
        max(case when is_session_start = 1 then utm_source end) as utm_source,
        max(case when is_session_start = 1 then utm_medium end) as utm_medium,
        max(case when is_session_start = 1 then utm_campaign end) as utm_campaign,
        max(case when is_session_start = 1 then click_id end) as click_id
    from numbered
    group by anonymous_id, session_number

)

select * from final
