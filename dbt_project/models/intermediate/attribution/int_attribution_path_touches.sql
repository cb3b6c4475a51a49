{#-
    Every touchpoint up to var as_of (when set) placed on one path. A touchpoint belongs to its
    customer's next conversion when that comes within var attribution_lookback_days; otherwise to
    the customer's non-converting path before that next conversion (or after the last one). path_id is the order_key of a conversion,
    or 'open:<journey_key>:<next order_key or none>'. Incremental: the journeys changed in
    int_journey_members (touchpoints or conversions) since the table's watermark are deleted and
    placed again; members_assigned_at is int_customer_touchpoints's (macros/journey_rewrites.sql).
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

touchpoints as (

    select * from {{ ref('int_customer_touchpoints') }}
    where
        {% if is_incremental() %}journey_key in (select journey_key from rewrites){% else %}true{% endif %}
        {% if var('as_of', '') %}and cast(touched_at as date) <= cast('{{ var("as_of") }}' as date){% endif %}

),

conversions as (

    select * from {{ ref('int_attribution_conversions') }}

),

placed as (

    select
        *,
        next_ordered_at as converted_at,
        coalesce(
            next_ordered_at <= {{ dbt.dateadd('day', var('attribution_lookback_days'), 'touched_at') }},
            false
        ) as is_conversion
    from ({{ next_conversions('touchpoints', 'conversions') }}) as touchpoints_with_next

),

final as (

    select
        touchpoint_id,
        case
            when is_conversion then next_order_key
            else {{ dbt.concat(["'open:'", "journey_key", "':'", "coalesce(next_order_key, 'none')"]) }}
        end as path_id,
        journey_key,
        customer_key,
        is_conversion,
        case when is_conversion then next_order_key end as order_key,
        touched_at,
        case when is_conversion then converted_at end as converted_at,
        channel,
        campaign,
        source,
        medium,
        {{ journey_watermark(ref('int_customer_touchpoints')) }} as members_assigned_at
    from placed

)

select * from final
