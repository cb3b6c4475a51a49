{#- A free-text identifier (customer_id, loyalty_id, ...) -> trimmed; empty -> null. -#}
{% macro clean_identifier(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}
