{#-
    BG/NBD and Gamma-Gamma inputs per customer at two cut-offs: the as-of date (to fit and score) and
    calibration_end = as_of - clv_holdout_days (to validate on the holdout after it). At a cut-off:
    frequency = purchase periods after the first; recency_days and t_days = days from the first
    period to the last one and to the cut-off's period; monetary_value = mean value of the repeat
    periods (0 without one); first_value = value of the first period (the fallback's order value when
    nobody bought twice); holdout purchases = periods after the cut-off, all and within 30 days.
-#}
with

purchase_periods as (

    select * from {{ ref('int_clv_purchase_periods') }}

),

clv_settings as (

    select * from {{ ref('int_clv_settings') }}

),

cutoffs as (

    select
        'as_of' as summary_at,
        clv_settings.as_of as cutoff_date
    from clv_settings
    union all
    select
        'calibration_end' as summary_at,
        clv_settings.calibration_end as cutoff_date
    from clv_settings

),

customer_cutoffs as (

    select
        purchase_periods.customer_key,
        cutoffs.summary_at,
        cutoffs.cutoff_date,
        cast({{ dbt.date_trunc(var('clv_time_unit'), 'cutoffs.cutoff_date') }} as date) as cutoff_period,
        purchase_periods.period_start,
        purchase_periods.period_number,
        purchase_periods.period_value
    from purchase_periods
    cross join cutoffs

),

summaries as (

    select
        customer_cutoffs.customer_key,
        customer_cutoffs.summary_at,
        customer_cutoffs.cutoff_date,
        sum(case when customer_cutoffs.period_start <= customer_cutoffs.cutoff_date then 1 else 0 end) - 1
            as frequency,
        {{ dbt.datediff(
            'min(customer_cutoffs.period_start)',
            'max(case when customer_cutoffs.period_start <= customer_cutoffs.cutoff_date'
            ~ ' then customer_cutoffs.period_start end)',
            'day',
        ) }} as recency_days,
        {{ dbt.datediff('min(customer_cutoffs.period_start)', 'customer_cutoffs.cutoff_period', 'day') }}
            as t_days,
        sum(
            case
                when
                    customer_cutoffs.period_start <= customer_cutoffs.cutoff_date
                    and customer_cutoffs.period_number > 1
                    then customer_cutoffs.period_value
            end
        ) as repeat_value,
        sum(case when customer_cutoffs.period_number = 1 then customer_cutoffs.period_value end) as first_value,
        sum(case when customer_cutoffs.period_start > customer_cutoffs.cutoff_date then 1 else 0 end)
            as holdout_purchases,
        sum(
            case
                when
                    customer_cutoffs.period_start > customer_cutoffs.cutoff_date
                    and customer_cutoffs.period_start
                    <= {{ dbt.dateadd('day', 30, 'customer_cutoffs.cutoff_date') }}
                    then 1
                else 0
            end
        ) as holdout_purchases_30d
    from customer_cutoffs
    group by
        customer_cutoffs.customer_key,
        customer_cutoffs.summary_at,
        customer_cutoffs.cutoff_date,
        customer_cutoffs.cutoff_period
    having min(customer_cutoffs.period_start) <= customer_cutoffs.cutoff_date

),

final as (

    select
        summaries.customer_key,
        summaries.summary_at,
        summaries.cutoff_date,
        summaries.frequency,
        summaries.recency_days,
        summaries.t_days,
        {#- A double divided: Spark's decimal division rounds to 6 decimal places. #}
        coalesce(cast(summaries.repeat_value as double) / nullif(summaries.frequency, 0), 0) as monetary_value,
        cast(summaries.first_value as double) as first_value,
        summaries.holdout_purchases,
        summaries.holdout_purchases_30d
    from summaries

)

select * from final
