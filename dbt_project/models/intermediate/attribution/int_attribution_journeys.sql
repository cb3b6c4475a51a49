{#-
    Paths: one row per conversion with touchpoints (path_id = order_key) and per non-converting
    path. path lists the touchpoints' channels in time order joined by ' > '. Incremental: the
    paths of the journeys changed in int_journey_members since the table's watermark are deleted
    and rebuilt; members_assigned_at is int_attribution_path_touches's (macros/journey_rewrites.sql).
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
    {% if is_incremental() %}where journey_key in (select journey_key from rewrites){% endif %}

),

conversions as (

    select * from {{ ref('int_attribution_conversions') }}

),

paths as (

    select
        path_id,
        journey_key,
        max(customer_key) as customer_key,
        max(order_key) as order_key,
        {{ dbt.bool_or('is_conversion') }} as is_conversion,
        {{ ordered_listagg('channel', "' > '", ['touched_at', 'touchpoint_id']) }} as path,
        count(*) as touch_count,
        min(touched_at) as first_touched_at,
        max(converted_at) as converted_at
    from path_touches
    group by path_id, journey_key

),

final as (

    select
        paths.*,
        conversions.conversion_value,
        conversions.is_new_customer,
        {{ journey_watermark(ref('int_attribution_path_touches')) }} as members_assigned_at
    from paths
    left join conversions
        on paths.order_key = conversions.order_key

)

select * from final
