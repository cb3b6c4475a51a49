{#- Window expression: the first non-null value of `column` in `order_by` order within `partition_by`. -#}
{% macro latest_non_null(column, partition_by, order_by) -%}
    {{ return(adapter.dispatch('latest_non_null', 'mercator')(column, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__latest_non_null(column, partition_by, order_by) -%}
    first_value({{ column }} ignore nulls) over (
        partition by {{ partition_by }} order by {{ order_by }}
        rows between unbounded preceding and unbounded following
    )
{%- endmacro %}

{% macro spark__latest_non_null(column, partition_by, order_by) -%}
    first_value({{ column }}, true) over (
        partition by {{ partition_by }} order by {{ order_by }}
        rows between unbounded preceding and unbounded following
    )
{%- endmacro %}
