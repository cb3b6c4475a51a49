{#- Warns for shop orders whose delivered status staging could not map (status unknown: never counted). -#}
{{ config(severity='warn') }}

select
    order_key,
    status
from {{ ref('fct_orders') }}
where status = 'unknown'
