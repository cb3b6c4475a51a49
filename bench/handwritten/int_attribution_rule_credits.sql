-- int_attribution_rule_credits as a DuckDB user would write it: the windows in one select, UNPIVOT.
with touches as (
    select
        p.order_key, p.touchpoint_id, p.channel, p.campaign, c.conversion_value,
        row_number() over (partition by p.order_key order by p.touched_at, p.touchpoint_id) as position,
        count(*) over (partition by p.order_key) as touches,
        row_number() over (
            partition by p.order_key order by p.channel = 'Direct', p.touched_at desc, p.touchpoint_id desc
        ) as non_direct_rank,
        exp(-0.6931471805599453 * date_diff('second', p.touched_at::timestamp, p.converted_at::timestamp)
            / 86400.0 / 7) as decay
    from intermediate.int_attribution_path_touches as p
    inner join intermediate.int_attribution_conversions as c on p.order_key = c.order_key
    where p.is_conversion
),
credits as (
    select
        order_key, touchpoint_id, channel, campaign, conversion_value,
        case when position = 1 then 1.0 else 0.0 end as first_touch,
        case when position = touches then 1.0 else 0.0 end as last_touch,
        case when non_direct_rank = 1 then 1.0 else 0.0 end as last_non_direct,
        1.0 / touches as linear,
        case when touches = 1 then 1.0 when touches = 2 then 0.5
            when position = 1 or position = touches then 0.4 else 0.2 / (touches - 2) end as position_based,
        decay / sum(decay) over (
            partition by order_key order by touchpoint_id rows between unbounded preceding and unbounded following
        ) as time_decay
    from touches
)
select order_key, touchpoint_id, model, channel, campaign, credit, credit * conversion_value as revenue
from credits
unpivot (credit for model in (first_touch, last_touch, last_non_direct, linear, position_based, time_decay))
