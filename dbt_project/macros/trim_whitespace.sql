{#-
    An expression without leading or trailing whitespace of any kind (spaces, tabs, line breaks):
    `trim` removes spaces only, and exports pasted from spreadsheets often end a value with a tab.
    The characters are those of RE2's `\s` (space, \t, \n, \f, \r); DuckDB trims them with `trim`'s
    character list, five times cheaper than the regular expression the other engines use.
-#}
{% macro trim_whitespace(expression) -%}
    {{ return(adapter.dispatch('trim_whitespace', 'mercator')(expression)) }}
{%- endmacro %}

{% macro default__trim_whitespace(expression) -%}
    {{ regex_replace_all(expression, '^\\s+|\\s+$', '') }}
{%- endmacro %}

{% macro duckdb__trim_whitespace(expression) -%}
    trim({{ expression }}, E' \t\n\f\r')
{%- endmacro %}
