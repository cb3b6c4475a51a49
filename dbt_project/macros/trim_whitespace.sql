{#-
    An expression without leading or trailing whitespace of any kind (spaces, tabs, line breaks):
    `trim` removes spaces only, and exports pasted from spreadsheets often end a value with a tab.
-#}
{% macro trim_whitespace(expression) -%}
    {{ regex_replace_all(expression, '^\\s+|\\s+$', '') }}
{%- endmacro %}
