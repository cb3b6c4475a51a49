{#- CLV, purchase forecasts, P(alive) and churn risk per customer, as scored by the fit_clv task. -#}
with

clv_scores as (

    select * from {{ source('ml', 'customer_clv_scores') }}

),

final as (

    select
        clv_scores.customer_key,
        clv_scores.expected_purchases_30d,
        clv_scores.expected_purchases_90d,
        clv_scores.expected_purchases_365d,
        clv_scores.p_alive,
        clv_scores.p_no_purchase_30d,
        clv_scores.expected_order_value,
        clv_scores.clv,
        clv_scores.clv_lower,
        clv_scores.clv_upper,
        clv_scores.churn_tier,
        clv_scores.churn_probability_30d,
        clv_scores.as_of
    from clv_scores

)

select * from final
