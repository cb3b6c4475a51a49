with

{{ latest_deliveries(source('raw', 'ads__spend'), ['date', 'platform', 'campaign_id']) }},

final as (

    select
        date,
        lower(platform) as platform,
        campaign_id,
        campaign_name,
        utm_source,
        utm_medium,
        utm_campaign,
        impressions,
        clicks,
        spend,
        coalesce(upper(currency), '{{ var("default_currency") }}') as currency,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
