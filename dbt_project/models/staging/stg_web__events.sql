{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}
with

{{ latest_deliveries(source('raw', 'web__events'), ['event_id'], new_keys_only=true) }},

final as (

    select
        event_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ normalize_email('email') }} as email,
        event_name,
        occurred_at,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        click_id,
        device_type,
        order_id,
        product_id,
        revenue,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
