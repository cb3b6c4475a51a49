{#-
    The CLV run's settings in one row, read by the fit_clv task: the as-of date (var as_of, or the
    latest order date) and the clv_* vars. calibration_end = as_of - clv_holdout_days.
-#}
with

countable_orders as (

    select * from {{ ref('int_orders_countable') }}

),

as_of_date as (

    select max(countable_orders.as_of) as as_of
    from countable_orders

),

final as (

    select
        as_of_date.as_of,
        cast(
            {{ dbt.dateadd('day', '-' ~ var('clv_holdout_days'), 'as_of_date.as_of') }} as date
        ) as calibration_end,
        '{{ var("clv_time_unit") }}' as time_unit,
        {{ var('clv_holdout_days') }} as holdout_days,
        {{ var('clv_horizon_days') }} as horizon_days,
        cast({{ var('clv_discount_rate_annual') }} as double) as discount_rate_annual,
        cast({{ var('clv_interval') }} as double) as interval_coverage,
        cast({{ var('clv_churn_severe_share') }} as double) as churn_severe_share,
        cast({{ var('clv_churn_moderate_share') }} as double) as churn_moderate_share
    from as_of_date

)

select * from final
