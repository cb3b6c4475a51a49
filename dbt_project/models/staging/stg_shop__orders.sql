with

source as (

    select * from {{ source('raw', 'shop__orders') }}

),

ranked as (

    select
        *,
        {{ latest_delivery_rank(['order_id']) }} as delivery_rank
    from source

),

final as (

    select
        order_id,
        {{ clean_identifier('customer_id') }} as customer_id,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        ordered_at,
        total_amount,
        coalesce(upper(currency), '{{ var("default_currency") }}') as currency,
        coalesce(discount_amount, 0) as discount_amount,
        coupon_code,
        coalesce(lower(status), 'paid') as status,
        coalesce(refunded_amount, 0) as refunded_amount,
        lower(sales_channel) as sales_channel,
        updated_at,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
