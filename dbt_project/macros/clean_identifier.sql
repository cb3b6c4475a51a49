{#-
    A free-text identifier (customer_id, loyalty_id, anonymous_id, ...) -> trimmed (tabs and line
    breaks too); empty or a placeholder that exports and trackers write for "no value" (null, none,
    nil, n/a, na, -, undefined, unknown; any case) -> null, so that it never links people.
-#}
{% macro clean_identifier(column) -%}
    {%- set trimmed = trim_whitespace('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    case
        when lower({{ trimmed }}) in ('', 'null', 'none', 'nil', 'n/a', 'na', '-', 'undefined', 'unknown') then null
        else {{ trimmed }}
    end
{%- endmacro %}
