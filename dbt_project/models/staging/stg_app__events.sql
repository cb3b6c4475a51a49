{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}
with

{{ latest_deliveries(source('raw', 'app__events'), ['event_id'], new_keys_only=true) }},

final as (

    select
        event_id,
        {{ clean_identifier('device_id') }} as device_id,
        {{ clean_identifier('user_id') }} as user_id,
        event_name,
        occurred_at,
        lower(platform) as platform,
        campaign,
        order_id,
        product_id,
        revenue,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
