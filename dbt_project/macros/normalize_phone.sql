{#-
    A phone number as people type it -> E.164 ('+' and 8-15 digits), or null when it cannot be one.
    '+CC ...' and '00CC ...' carry their country; anything else is a national number of the
    default country (var default_country): NANP numbers may start with the trunk '1', other
    countries drop the trunk '0'. Separators (spaces, dots, dashes, slashes, brackets) are ignored,
    and so is whitespace around the number (tabs too); letters or other characters make it invalid.
-#}
{% macro normalize_phone(column, default_country=none) -%}
    {%- set calling_code = country_calling_code(default_country or var('default_country', 'US')) -%}
    {%- set typed = trim_whitespace(column) -%}
    {%- set digits = regex_replace_all(typed, '[^0-9]', '') -%}
    {%- set e164 -%}
        case
            when {{ regex_replace_all(typed, '[0-9+(). /-]', '') }} != '' then null
            when {{ typed }} like '+%' then {{ dbt.concat(["'+'", digits]) }}
            when {{ digits }} like '00%' then {{ dbt.concat(["'+'", 'substr(' ~ digits ~ ', 3)']) }}
            {%- if calling_code == '1' %}
            when length({{ digits }}) = 11 and {{ digits }} like '1%' then {{ dbt.concat(["'+'", digits]) }}
            when length({{ digits }}) = 10 then {{ dbt.concat(["'+1'", digits]) }}
            {%- else %}
            when {{ digits }} like '0%' then {{ dbt.concat(["'+" ~ calling_code ~ "'", 'substr(' ~ digits ~ ', 2)']) }}
            when {{ digits }} != '' then {{ dbt.concat(["'+" ~ calling_code ~ "'", digits]) }}
            {%- endif %}
        end
    {%- endset -%}
    case
        when length({{ e164 }}) not between 9 and 16 then null
        when substr({{ e164 }}, 2, 1) = '0' then null
        when {{ e164 }} like '+1%' and (length({{ e164 }}) != 12 or substr({{ e164 }}, 3, 1) in ('0', '1')) then null
        else {{ e164 }}
    end
{%- endmacro %}
