{#-
    Identifiers carried together by web and app events, one link group per distinct combination
    (the record is the visitor or device); email and SMS events contribute their address alone.
    Incremental: the link groups of every record (visitor, device, address, phone) with events
    delivered since the last build are rebuilt from all its events.
-#}
{{ config(
    materialized='incremental', unique_key=['source', 'entity', 'record_id'], incremental_strategy='delete+insert'
) }}
{%- set no_value = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
{%- set web_combination = ["coalesce(user_id, '')", "'|'", "coalesce(email, '')"] -%}
with

web_events as (

    select * from {{ ref('stg_web__events') }}

),

app_events as (

    select * from {{ ref('stg_app__events') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

sms_events as (

    select
        *,
        case when message_status = 'received' then from_phone else to_phone end as customer_phone
    from {{ ref('stg_sms__events') }}

),

final as (

    select
        'web' as source,
        'visitors' as entity,
        anonymous_id as record_id,
        {{ dbt.concat(["'web:visitors:'", 'anonymous_id', "'|'"] + web_combination) }} as link_group_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(loaded_at) as loaded_at,
        email,
        {{ no_value }} as phone,
        user_id as customer_id,
        {{ no_value }} as contact_id,
        {{ no_value }} as loyalty_id,
        anonymous_id,
        {{ no_value }} as device_id
    from web_events
    where anonymous_id is not null and {{ key_has_new_deliveries('web_events', 'anonymous_id') }}
    group by anonymous_id, user_id, email

    union all

    select
        'app' as source,
        'devices' as entity,
        device_id as record_id,
        {{ dbt.concat(["'app:devices:'", 'device_id', "'|'", "coalesce(user_id, '')"]) }} as link_group_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(loaded_at) as loaded_at,
        {{ no_value }} as email,
        {{ no_value }} as phone,
        user_id as customer_id,
        {{ no_value }} as contact_id,
        {{ no_value }} as loyalty_id,
        {{ no_value }} as anonymous_id,
        device_id
    from app_events
    where device_id is not null and {{ key_has_new_deliveries('app_events', 'device_id') }}
    group by device_id, user_id

    union all

    select
        'email' as source,
        'events' as entity,
        email as record_id,
        {{ dbt.concat(["'email:events:'", 'email']) }} as link_group_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(loaded_at) as loaded_at,
        email,
        {{ no_value }} as phone,
        {{ no_value }} as customer_id,
        {{ no_value }} as contact_id,
        {{ no_value }} as loyalty_id,
        {{ no_value }} as anonymous_id,
        {{ no_value }} as device_id
    from email_events
    where email is not null and {{ key_has_new_deliveries('email_events', 'email') }}
    group by email

    union all

    select
        'sms' as source,
        'events' as entity,
        customer_phone as record_id,
        {{ dbt.concat(["'sms:events:'", 'customer_phone']) }} as link_group_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(loaded_at) as loaded_at,
        {{ no_value }} as email,
        customer_phone as phone,
        {{ no_value }} as customer_id,
        {{ no_value }} as contact_id,
        {{ no_value }} as loyalty_id,
        {{ no_value }} as anonymous_id,
        {{ no_value }} as device_id
    from sms_events
    where customer_phone is not null and {{ key_has_new_deliveries('sms_events', 'customer_phone') }}
    group by customer_phone

)

select * from final
