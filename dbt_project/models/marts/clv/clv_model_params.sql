{#-
    Fitted BG/NBD and Gamma-Gamma parameters of the latest CLV run (or its fallback's), the holdout
    metrics of each purchase model (BG/NBD, MBG/NBD, Pareto/NBD) and which one scores (chosen), the
    chosen model's parameters, and the churn model's holdout AUCs; each row carries its model's
    status (fitted = all is well), the reason and the named fallback.
-#}
with

model_params as (

    select * from {{ source('ml', 'clv_model_params') }}

),

final as (

    select
        model_params.model,
        model_params.parameter,
        model_params.method,
        model_params.value,
        model_params.time_unit,
        model_params.as_of,
        model_params.n_customers,
        model_params.log_likelihood,
        model_params.status,
        model_params.status_reason,
        model_params.fallback
    from model_params

)

select * from final
