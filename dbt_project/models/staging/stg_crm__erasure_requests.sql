with

{{ latest_deliveries(source('raw', 'crm__erasure_requests'), ['trim(request_id)']) }},

final as (

    select
        trim(request_id) as request_id,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        {{ clean_identifier('customer_id') }} as customer_id,
        requested_at,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
