with

daily as (

    select * from {{ ref('attribution_by_channel_daily') }}

),

by_channel as (

    select
        model,
        channel,
        sum(conversions) as conversions,
        sum(revenue) as revenue,
        sum(new_customer_conversions) as new_customer_conversions
    from daily
    group by model, channel

),

final as (

    select
        *,
        {#- Doubles divided: Spark's decimal division rounds to 6 decimal places. #}
        cast(conversions as double) / sum(conversions) over (partition by model) as conversion_share,
        cast(revenue as double) / nullif(sum(revenue) over (partition by model), 0) as revenue_share
    from by_channel

)

select * from final
