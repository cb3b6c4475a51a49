{#-
    An email as people type it -> trimmed (tabs and line breaks too), lower-cased; empty -> null.
    A value that cannot be an address (no single '@' between a local part and a dotted domain, or
    containing spaces) -> null, so it never links people nor receives mail.
-#}
{% macro normalize_email(column) -%}
    {%- set typed = 'lower(' ~ trim_whitespace(column) ~ ')' -%}
    case when {{ regex_full_match(typed, '[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+') }} then {{ typed }} end
{%- endmacro %}
