{#-
    Data-driven credits per (order, touchpoint, model) from the channel weights of the Python models
    (source ml.attribution_channel_credits): each order's credit is split over its distinct channels
    in proportion to their weights (revenue by the revenue weights), then equally over a channel's
    touchpoints (mercator.attribution.allocate_to_paths). The weights are fitted so that the
    channel sums equal the model's channel credits. An order whose channels all weigh zero is split
    equally.
-#}
with

weights as (

    select * from {{ source('ml', 'attribution_channel_credits') }}

),

path_touches as (

    select * from {{ ref('int_attribution_path_touches') }}
    where is_conversion

),

conversions as (

    select * from {{ ref('int_attribution_conversions') }}

),

models as (

    select distinct model from weights

),

touches as (

    select
        order_key,
        touchpoint_id,
        channel,
        campaign,
        count(*) over (partition by order_key, channel) as channel_touch_count
    from path_touches

),

order_channels as (

    select distinct
        order_key,
        channel
    from touches

),

weighted_channels as (

    select
        order_channels.order_key,
        order_channels.channel,
        models.model,
        coalesce(weights.conversion_weight, 0) as conversion_weight,
        coalesce(weights.revenue_weight, 0) as revenue_weight
    from order_channels
    cross join models
    left join weights
        on
            models.model = weights.model
            and order_channels.channel = weights.channel

),

channel_shares as (

    select
        order_key,
        channel,
        model,
        coalesce(
            conversion_weight / nullif(sum(conversion_weight) over (
                partition by order_key, model
                order by channel rows between unbounded preceding and unbounded following
            ), 0),
            1.0 / count(*) over (partition by order_key, model)
        ) as credit_share,
        coalesce(
            revenue_weight / nullif(sum(revenue_weight) over (
                partition by order_key, model
                order by channel rows between unbounded preceding and unbounded following
            ), 0),
            1.0 / count(*) over (partition by order_key, model)
        ) as revenue_share
    from weighted_channels

),

final as (

    select
        touches.order_key,
        touches.touchpoint_id,
        channel_shares.model,
        touches.channel,
        touches.campaign,
        channel_shares.credit_share / touches.channel_touch_count as credit,
        channel_shares.revenue_share / touches.channel_touch_count * conversions.conversion_value as revenue
    from touches
    inner join channel_shares
        on
            touches.order_key = channel_shares.order_key
            and touches.channel = channel_shares.channel
    inner join conversions
        on touches.order_key = conversions.order_key

)

select * from final
