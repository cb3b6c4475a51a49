{#-
    Warns (never fails the run) for orders in a currency that seed currency_rates cannot convert
    into the reporting currency: they are left out of monetary sums until a rate is added.
-#}
{{ config(severity='warn') }}

select
    order_key,
    currency
from {{ ref('fct_orders') }}
where not has_exchange_rate
