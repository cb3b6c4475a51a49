{{ config(materialized='incremental', unique_key='email_event_key', incremental_strategy='delete+insert') }}
with

-- a webhook retry may carry the address typed differently: deduplicate on it trimmed and lower-cased
{{ latest_deliveries(
    source('raw', 'email__events'), ['lower(trim(email))', adapter.quote('timestamp'), 'event', 'sg_message_id', 'url'],
    new_keys_only=true,
) }},

final as (

    select
        {{ dbt.hash(dbt.concat([
            "coalesce(lower(trim(email)), '')", "'|'", "coalesce(" ~ timestamp_text(adapter.quote('timestamp')) ~ ", '')",
            "'|'", "coalesce(event, '')", "'|'", "coalesce(sg_message_id, '')", "'|'", "coalesce(url, '')",
        ])) }} as email_event_key,
        {{ normalize_email('email') }} as email,
        {{ adapter.quote('timestamp') }} as occurred_at,
        lower(event) as event,
        sg_event_id,
        sg_message_id,
        category,
        url,
        reason,
        type,
        asm_group_id,
        campaign,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
