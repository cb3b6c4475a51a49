{#- An email as people type it -> trimmed, lower-cased; empty -> null. -#}
{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
