{#-
    Rule-based credits: one row per (order, touchpoint, model) for first_touch, last_touch,
    last_non_direct (the last touchpoint not from Direct; the last one when all are), linear,
    position_based (40 % first, 40 % last, 20 % shared by the middle; 50/50 with two touchpoints)
    and time_decay (weight halving every var attribution_time_decay_half_life_days before the
    conversion). Each order's credits sum to 1 per model; revenue = credit * conversion_value.
    journey_key is the customer's. Incremental: the credits of the journeys changed in
    int_journey_members since the table's watermark are deleted and computed again;
    members_assigned_at is int_attribution_path_touches's (macros/journey_rewrites.sql).
-#}
{{ config(
    materialized='incremental', unique_key='journey_key', incremental_strategy='delete+insert',
    delete_keys_in='journey_rewrites',
) }}
-- depends_on: {{ ref('int_journey_members') }}
with

rewrites as (

    {{ journey_rewrites(this) }}

),

path_touches as (

    select * from {{ ref('int_attribution_path_touches') }}
    where is_conversion{% if is_incremental() %} and journey_key in (select journey_key from rewrites){% endif %}

),

conversions as (

    select * from {{ ref('int_attribution_conversions') }}

),

valued as (

    select
        path_touches.*,
        conversions.conversion_value
    from path_touches
    inner join conversions
        on path_touches.order_key = conversions.order_key

),

positioned as (

    select
        order_key,
        touchpoint_id,
        journey_key,
        channel,
        campaign,
        conversion_value,
        row_number() over (partition by order_key order by touched_at, touchpoint_id) as touch_position,
        count(*) over (partition by order_key) as touch_count,
        row_number() over (
            partition by order_key
            order by case when channel = 'Direct' then 1 else 0 end, touched_at desc, touchpoint_id desc
        ) as non_direct_rank,
        exp(
            -0.6931471805599453
            * {{ dbt.datediff('touched_at', 'converted_at', 'second') }} / 86400.0
            / {{ var('attribution_time_decay_half_life_days') }}
        ) as decay_weight
    from valued

),

weighted as (

    select
        *,
        case when touch_position = 1 then 1.0 else 0.0 end as first_touch,
        case when touch_position = touch_count then 1.0 else 0.0 end as last_touch,
        case when non_direct_rank = 1 then 1.0 else 0.0 end as last_non_direct,
        1.0 / touch_count as linear,
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when touch_position = 1 or touch_position = touch_count then 0.4
            else 0.2 / (touch_count - 2)
        end as position_based,
        decay_weight / sum(decay_weight) over (
            partition by order_key order by touchpoint_id rows between unbounded preceding and unbounded following
        ) as time_decay
    from positioned

),

rule_models as (

    select 'first_touch' as model
    union all

    select 'last_touch' as model
    union all

    select 'last_non_direct' as model
    union all

    select 'linear' as model
    union all

    select 'position_based' as model
    union all

    select 'time_decay' as model

),

credits as (

    select
        weighted.order_key,
        weighted.touchpoint_id,
        weighted.journey_key,
        rule_models.model,
        weighted.channel,
        weighted.campaign,
        weighted.conversion_value,
        case rule_models.model
            when 'first_touch' then weighted.first_touch
            when 'last_touch' then weighted.last_touch
            when 'last_non_direct' then weighted.last_non_direct
            when 'linear' then weighted.linear
            when 'position_based' then weighted.position_based
            when 'time_decay' then weighted.time_decay
        end as credit
    from weighted
    cross join rule_models

),

final as (

    select
        order_key,
        touchpoint_id,
        journey_key,
        model,
        channel,
        campaign,
        credit,
        credit * conversion_value as revenue,
        {{ journey_watermark(ref('int_attribution_path_touches')) }} as members_assigned_at
    from credits

)

select * from final
