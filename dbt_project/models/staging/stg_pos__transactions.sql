with

{{ latest_deliveries(source('raw', 'pos__transactions'), ['trim(transaction_id)']) }},

final as (

    select
        trim(transaction_id) as transaction_id,
        store_id,
        {{ clean_identifier('loyalty_id') }} as loyalty_id,
        {{ normalize_phone('phone') }} as phone,
        {{ normalize_email('email') }} as email,
        occurred_at,
        total_amount,
        coalesce(nullif(upper(trim(currency)), ''), '{{ var("default_currency") }}') as currency,
        lower(status) as status,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
