with

source as (

    select * from {{ source('raw', 'sms__events') }}

),

{{ latest_deliveries('source', ['"MessageSid"', '"MessageStatus"']) }},

final as (

    select
        messagesid as message_sid,
        {{ normalize_phone('"To"') }} as to_phone,
        {{ normalize_phone('"From"') }} as from_phone,
        lower(messagestatus) as message_status,
        errorcode as error_code,
        "timestamp" as occurred_at,
        nullif(trim(body), '') as body,
        campaign,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
