{#-
    Lifecycle stage of every customer with a purchase up to as_of, by the first rule that holds
    (thresholds in the lifecycle_* vars):
    new (first purchase within lifecycle_new_days), churned (no purchase for lifecycle_churned_days
    or P(alive) below lifecycle_churned_p_alive), at_risk (likewise with the at-risk thresholds),
    reactivated (latest purchase within lifecycle_new_days after a gap of lifecycle_churned_days or
    more), else active. Customers without a purchase are prospects (dim_customers).
-#}
with

purchase_periods as (

    select * from {{ ref('int_clv_purchase_periods') }}

),

clv_settings as (

    select * from {{ ref('int_clv_settings') }}

),

clv_scores as (

    select * from {{ source('ml', 'customer_clv_scores') }}

),

latest_periods as (

    select
        purchase_periods.customer_key,
        purchase_periods.first_period_start,
        purchase_periods.period_start as last_period_start,
        purchase_periods.previous_period_start
    from purchase_periods
    where purchase_periods.period_number = purchase_periods.period_count

),

histories as (

    select
        latest_periods.customer_key,
        {{ dbt.datediff('latest_periods.first_period_start', 'clv_settings.as_of', 'day') }}
            as days_since_first_purchase,
        {{ dbt.datediff('latest_periods.last_period_start', 'clv_settings.as_of', 'day') }}
            as days_since_last_purchase,
        {{ dbt.datediff('latest_periods.previous_period_start', 'latest_periods.last_period_start', 'day') }}
            as days_between_last_purchases,
        clv_scores.p_alive,
        clv_settings.as_of
    from latest_periods
    cross join clv_settings
    left join clv_scores on latest_periods.customer_key = clv_scores.customer_key

),

final as (

    select
        histories.customer_key,
        case
            when histories.days_since_first_purchase <= {{ var('lifecycle_new_days') }} then 'new'
            when
                histories.days_since_last_purchase >= {{ var('lifecycle_churned_days') }}
                or histories.p_alive < {{ var('lifecycle_churned_p_alive') }}
                then 'churned'
            when
                histories.days_since_last_purchase >= {{ var('lifecycle_at_risk_days') }}
                or histories.p_alive < {{ var('lifecycle_at_risk_p_alive') }}
                then 'at_risk'
            when
                histories.days_since_last_purchase <= {{ var('lifecycle_new_days') }}
                and histories.days_between_last_purchases >= {{ var('lifecycle_churned_days') }}
                then 'reactivated'
            else 'active'
        end as lifecycle_stage,
        histories.days_since_first_purchase,
        histories.days_since_last_purchase,
        histories.days_between_last_purchases,
        histories.p_alive,
        histories.as_of
    from histories

)

select * from final
