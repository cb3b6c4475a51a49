{#-
    Aggregate: the values of `measure` joined by `delimiter` (a SQL string literal) in the order of
    `order_by` (a list of columns, ascending). dbt.listagg on Spark ignores the order (collect_list
    keeps none), which would scramble attribution paths: Spark sorts structs of the order columns
    and the value instead.
-#}
{% macro ordered_listagg(measure, delimiter, order_by) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'mercator')(measure, delimiter, order_by)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter, order_by) -%}
    {{ dbt.listagg(measure, delimiter, 'order by ' ~ order_by | join(', ')) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter, order_by) -%}
    concat_ws(
        {{ delimiter }},
        transform(
            array_sort(collect_list(named_struct(
                {%- for column in order_by %}'k{{ loop.index }}', {{ column }}, {% endfor %}'value', {{ measure }}
            ))),
            entry -> entry.value
        )
    )
{%- endmacro %}
