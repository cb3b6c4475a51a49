-- int_web_sessions as a DuckDB user would write it: lag, a running sum of session starts, one group by.
with starts as (
    select
        *,
        case
            when previous_at is null then 1
            when date_diff('second', previous_at, occurred_at) > 30 * 60 then 1
            when coalesce(utm_campaign, utm_source || '/' || utm_medium) is not null then 1
            else 0
        end as is_start
    from (
        select
            anonymous_id, user_id, occurred_at, event_id, referrer, click_id, loaded_at,
            lower(utm_source) as utm_source, lower(utm_medium) as utm_medium, lower(utm_campaign) as utm_campaign,
            lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id) as previous_at
        from staging.stg_web__events
    )
),
numbered as (
    select *, sum(is_start) over (partition by anonymous_id order by occurred_at, event_id
                                  rows between unbounded preceding and current row) as session_number
    from starts
)
select
    anonymous_id || '#' || session_number::varchar as session_id,
    anonymous_id,
    session_number,
    min(occurred_at) as started_at,
    max(occurred_at) as ended_at,
    count(*) as event_count,
    max(user_id) as user_id,
    max(referrer) filter (where is_start = 1) as referrer,
    max(utm_source) filter (where is_start = 1) as utm_source,
    max(utm_medium) filter (where is_start = 1) as utm_medium,
    max(utm_campaign) filter (where is_start = 1) as utm_campaign,
    max(click_id) filter (where is_start = 1) as click_id,
    max(loaded_at) as loaded_at
from numbered
group by anonymous_id, session_number
