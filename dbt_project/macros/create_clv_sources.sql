{#-
    The CLV task's output tables (source ml), created empty when absent with the columns
    mercator.clv.warehouse writes; the task replaces them on every run. One statement per macro:
    Spark runs one statement per hook.
-#}
{% macro create_clv_scores_source() %}
    create table if not exists ml.customer_clv_scores (
        customer_key {{ dbt.type_string() }},
        expected_purchases_30d double,
        expected_purchases_90d double,
        expected_purchases_365d double,
        p_alive double,
        p_no_purchase_30d double,
        expected_order_value double,
        clv double,
        clv_lower double,
        clv_upper double,
        churn_tier {{ dbt.type_string() }},
        churn_probability_30d double,
        as_of date
    )
{% endmacro %}

{% macro create_clv_params_source() %}
    create table if not exists ml.clv_model_params (
        model {{ dbt.type_string() }},
        parameter {{ dbt.type_string() }},
        method {{ dbt.type_string() }},
        value double,
        time_unit {{ dbt.type_string() }},
        as_of date,
        n_customers {{ dbt.type_bigint() }},
        log_likelihood double,
        status {{ dbt.type_string() }},
        status_reason {{ dbt.type_string() }},
        fallback {{ dbt.type_string() }}
    )
{% endmacro %}
