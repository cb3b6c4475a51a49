{#-
    The body of an `as_of_date` CTE: the run's as-of date (var `as_of`; when empty, the latest order
    date in the data), from `orders`, a CTE with ordered_at and is_future_dated.
-#}
{% macro as_of_date(orders) -%}
    select
        coalesce(
            cast(nullif('{{ var("as_of", "") }}', '') as date),
            max(cast({{ orders }}.ordered_at as date))
        ) as as_of
    from {{ orders }}
    where not {{ orders }}.is_future_dated
{%- endmacro %}
