{#-
    Every marketing touchpoint: web sessions (utm fields, else the referrer's host, else direct),
    app sessions (opened from a push, else direct) and email clicks (SendGrid click events).
    SMS links reach the site as web sessions with utm_medium sms. source and medium are lower
    case and never null, ready for the channel rules (seed channel_groupings).
    Incremental: the touchpoints of every visitor, device and address with events delivered since
    the last build are rewritten (sessions are rebuilt per visitor and device upstream).
-#}
{{ config(
    materialized='incremental', unique_key=['identifier_type', 'identifier_value'], incremental_strategy='delete+insert'
) }}
with

web_sessions as (

    select * from {{ ref('int_web_sessions') }}
    where {{ key_has_new_deliveries(ref('int_web_sessions'), 'anonymous_id') }}

),

app_sessions as (

    select * from {{ ref('int_app_sessions') }}
    where {{ key_has_new_deliveries(ref('int_app_sessions'), 'device_id') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}
    where {{ key_has_new_deliveries(ref('stg_email__events'), 'email') }}

),

web as (

    select
        session_id,
        anonymous_id,
        started_at,
        utm_source,
        utm_medium,
        utm_campaign,
        click_id,
        loaded_at,
        nullif(lower({{ dbt.split_part('referrer', "'/'", 3) }}), '') as referrer_host
    from web_sessions

),

unioned as (

    select
        {{ dbt.concat(["'web:'", "session_id"]) }} as touchpoint_id,
        'web_session' as touchpoint_type,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        started_at as touched_at,
        coalesce(utm_source, referrer_host, '(direct)') as source,
        coalesce(utm_medium, case when referrer_host is not null then 'referral' end, '(none)') as medium,
        utm_campaign as campaign,
        click_id is not null as has_click_id,
        loaded_at
    from web

    union all

    select
        {{ dbt.concat(["'app:'", "session_id"]) }} as touchpoint_id,
        'app_session' as touchpoint_type,
        'device_id' as identifier_type,
        device_id as identifier_value,
        started_at as touched_at,
        case when is_push_open then 'app' else '(direct)' end as source,
        case when is_push_open then 'push' else '(none)' end as medium,
        campaign,
        false as has_click_id,
        loaded_at
    from app_sessions

    union all

    select
        {{ dbt.concat(["'email:'", "email_event_key"]) }} as touchpoint_id,
        'email_click' as touchpoint_type,
        'email' as identifier_type,
        email as identifier_value,
        occurred_at as touched_at,
        lower(coalesce(category, 'email')) as source,
        'email' as medium,
        lower(campaign) as campaign,
        false as has_click_id,
        loaded_at
    from email_events
    where event = 'click'

)

select * from unioned
