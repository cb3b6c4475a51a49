{#- Warns for orders dated after their delivery was loaded (var future_tolerance_hours): never counted. -#}
{{ config(severity='warn') }}

select
    order_key,
    ordered_at
from {{ ref('fct_orders') }}
where is_future_dated
