{#-
    Every row of `touchpoints` (customer_key, touched_at, touchpoint_id, ...) with the customer's
    first conversion of `conversions` (order_key, customer_key, ordered_at) at or after it:
    next_order_key and next_ordered_at (the earliest order_key among conversions at the same
    instant; null when none follows).
-#}
{% macro next_conversions(touchpoints, conversions) -%}
    {{ return(adapter.dispatch('next_conversions', 'mercator')(touchpoints, conversions)) }}
{%- endmacro %}

{#- Every later conversion ranked per touchpoint: rows grow with touchpoints x conversions per customer. -#}
{% macro default__next_conversions(touchpoints, conversions) -%}
    select
        touchpoints.*,
        ranked.order_key as next_order_key,
        ranked.ordered_at as next_ordered_at
    from {{ touchpoints }} as touchpoints
    left join (
        select
            later.touchpoint_id,
            conversions.order_key,
            conversions.ordered_at,
            row_number() over (
                partition by later.touchpoint_id order by conversions.ordered_at, conversions.order_key
            ) as conversion_rank
        from {{ touchpoints }} as later
        inner join {{ conversions }} as conversions
            on
                later.customer_key = conversions.customer_key
                and later.touched_at <= conversions.ordered_at
    ) as ranked
        on
            touchpoints.touchpoint_id = ranked.touchpoint_id
            and ranked.conversion_rank = 1
{%- endmacro %}

{#- DuckDB's ASOF join finds the nearest later conversion directly, in one sorted pass. -#}
{% macro duckdb__next_conversions(touchpoints, conversions) -%}
    select
        touchpoints.*,
        instants.order_key as next_order_key,
        instants.ordered_at as next_ordered_at
    from {{ touchpoints }} as touchpoints
    asof left join (
        select
            customer_key,
            ordered_at,
            min(order_key) as order_key
        from {{ conversions }}
        group by customer_key, ordered_at
    ) as instants
        on
            touchpoints.customer_key = instants.customer_key
            and touchpoints.touched_at <= instants.ordered_at
{%- endmacro %}
