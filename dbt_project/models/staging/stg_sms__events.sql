{{ config(
    materialized='incremental', unique_key=['message_sid', 'message_status'], incremental_strategy='delete+insert'
) }}
with

{{ latest_deliveries(
    source('raw', 'sms__events'), [adapter.quote('MessageSid'), adapter.quote('MessageStatus')], new_keys_only=true
) }},

final as (

    select
        messagesid as message_sid,
        {{ normalize_phone(adapter.quote('To')) }} as to_phone,
        {{ normalize_phone(adapter.quote('From')) }} as from_phone,
        lower(messagestatus) as message_status,
        errorcode as error_code,
        {{ adapter.quote('timestamp') }} as occurred_at,
        nullif(trim(body), '') as body,
        campaign,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
