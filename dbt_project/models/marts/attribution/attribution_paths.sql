with

journeys as (

    select * from {{ ref('int_attribution_journeys') }}

),

final as (

    select
        path,
        max(touch_count) as path_length,
        sum(case when is_conversion then 1 else 0 end) as conversions,
        sum(case when is_conversion then 0 else 1 end) as non_conversions,
        coalesce(sum(conversion_value), 0) as conversion_value
    from journeys
    group by path

)

select * from final
