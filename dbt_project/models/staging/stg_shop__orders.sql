with

{{ latest_deliveries(source('raw', 'shop__orders'), ['trim(order_id)'], version_column='updated_at') }},

final as (

    select
        trim(order_id) as order_id,
        {{ clean_identifier('customer_id') }} as customer_id,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        ordered_at,
        total_amount,
        coalesce(nullif(upper(trim(currency)), ''), '{{ var("default_currency") }}') as currency,
        coalesce(discount_amount, 0) as discount_amount,
        coupon_code,
        {{ normalize_order_status('status') }} as status,
        status as source_status,
        coalesce(refunded_amount, 0) as refunded_amount,
        lower(sales_channel) as sales_channel,
        updated_at,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
