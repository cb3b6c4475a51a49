{#-
    A free-text identifier (customer_id, loyalty_id, anonymous_id, ...) -> trimmed; empty or a
    placeholder that exports and trackers write for "no value" (null, none, nil, n/a, na, -,
    undefined, unknown; any case) -> null, so that it never links people.
-#}
{% macro clean_identifier(column) -%}
    case
        when lower(trim(cast({{ column }} as {{ dbt.type_string() }})))
            in ('', 'null', 'none', 'nil', 'n/a', 'na', '-', 'undefined', 'unknown') then null
        else trim(cast({{ column }} as {{ dbt.type_string() }}))
    end
{%- endmacro %}
