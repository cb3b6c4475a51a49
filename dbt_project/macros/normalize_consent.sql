{#- A consent value as delivered -> granted | revoked | unknown (missing or any other value). -#}
{% macro normalize_consent(column) -%}
    case
        when lower(trim({{ column }})) in ('granted', 'revoked') then lower(trim({{ column }}))
        else 'unknown'
    end
{%- endmacro %}
