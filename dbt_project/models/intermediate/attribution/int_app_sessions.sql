{#-
    App sessions: a device's events grouped into visits. A session ends after
    var session_timeout_minutes without an event; a push_open starts a new session (the app was
    opened from a notification), whose campaign is the push's.
-#}
{{ config(materialized='incremental', unique_key='device_id', incremental_strategy='delete+insert') }}
with

events as (

    select * from {{ ref('stg_app__events') }}
    where device_id is not null and {{ key_has_new_deliveries(ref('stg_app__events'), 'device_id') }}

),

flagged as (

    select
        event_id,
        device_id,
        user_id,
        event_name,
        occurred_at,
        loaded_at,
        platform,
        lower(campaign) as campaign,
        {{ dbt.datediff(
            'lag(occurred_at) over (partition by device_id order by occurred_at, event_id)', 'occurred_at', 'second'
        ) }} as seconds_since_previous
    from events

),

started as (

    select
        *,
        case
            when seconds_since_previous is null then 1
            when seconds_since_previous > {{ var('session_timeout_minutes') }} * 60 then 1
            when event_name = 'push_open' then 1
            else 0
        end as is_session_start
    from flagged

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by device_id order by occurred_at, event_id rows between unbounded preceding and current row
        ) as session_number
    from started

),

final as (

    select
        {{ dbt.concat(["device_id", "'#'", dbt.cast("session_number", dbt.type_string())]) }} as session_id,
        device_id,
        session_number,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        max(loaded_at) as loaded_at,
        max(user_id) as user_id,
        max(platform) as platform,
        max(case when is_session_start = 1 and event_name = 'push_open' then 1 else 0 end) = 1 as is_push_open,
        max(case when is_session_start = 1 then campaign end) as campaign
    from numbered
    group by device_id, session_number

)

select * from final
