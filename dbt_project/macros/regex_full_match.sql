{#-
    True when the whole of an expression matches a regular expression (DuckDB and Spark). Spark's
    SQL literals read backslash escapes (`\s` would become `s`): its branch doubles backslashes.
-#}
{% macro regex_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'mercator')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_full_match(expression, pattern) -%}
    ({{ expression }} rlike '^({{ pattern | replace('\\', '\\\\') }})$')
{%- endmacro %}
