{#-
    Generic test on an attribution credits table (columns model, order_key): every model credits
    every attributed order, and each order's credits sum to 1 per model, so a model's credits sum
    to the number of attributed orders. Returns the offending (model, order_key) pairs.
-#}
{% test credits_sum_to_orders(model, credit_column) %}

with

per_order as (

    select
        model,
        order_key,
        sum({{ credit_column }}) as credit_total
    from {{ model }}
    group by model, order_key

),

models as (

    select distinct model from per_order

),

orders as (

    select distinct order_key from per_order

),

expected as (

    select
        models.model,
        orders.order_key
    from models
    cross join orders

)

select
    expected.model,
    expected.order_key,
    per_order.credit_total
from expected
left join per_order
    on
        expected.model = per_order.model
        and expected.order_key = per_order.order_key
where per_order.credit_total is null or abs(per_order.credit_total - 1) > 1e-9

{% endtest %}
