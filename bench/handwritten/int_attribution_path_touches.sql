-- int_attribution_path_touches as a DuckDB user would write it: one ASOF LEFT JOIN to the next conversion.
select
    t.touchpoint_id,
    case when c.ordered_at <= t.touched_at + interval 30 day then c.order_key
        else 'open:' || t.journey_key || ':' || coalesce(c.order_key, 'none') end as path_id,
    t.journey_key,
    t.customer_key,
    coalesce(c.ordered_at <= t.touched_at + interval 30 day, false) as is_conversion,
    case when c.ordered_at <= t.touched_at + interval 30 day then c.order_key end as order_key,
    t.touched_at,
    case when c.ordered_at <= t.touched_at + interval 30 day then c.ordered_at end as converted_at,
    t.channel, t.campaign, t.source, t.medium
from intermediate.int_customer_touchpoints as t
asof left join (
    select customer_key, ordered_at, min(order_key) as order_key
    from intermediate.int_attribution_conversions
    group by all
) as c
    on t.customer_key = c.customer_key and t.touched_at <= c.ordered_at
