{#-
    Conversions to attribute: countable, not future-dated orders of known customers up to var as_of
    (when set), valued at their net amount in the reporting currency (null when the order's currency
    has no rate in seed currency_rates: counted as a conversion, left out of revenue).
    is_new_customer marks the customer's first countable order (for CAC).
-#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        order_key,
        customer_key,
        ordered_at,
        net_amount_reporting as conversion_value,
        row_number() over (partition by customer_key order by ordered_at, order_key) = 1 as is_new_customer
    from orders
    where
        is_countable
        and not is_future_dated
        and customer_key is not null
        {% if var('as_of', '') %}and cast(ordered_at as date) <= cast('{{ var("as_of") }}' as date){% endif %}

)

select * from final
