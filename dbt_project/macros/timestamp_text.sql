{#-
    A timestamp with time zone as text, the same on both engines: DuckDB's cast in UTC
    ('2026-01-02 10:30:00+00', fractions of a second only when there are some). Keys hashed from it
    (email_event_key) are then the same whichever engine builds them. Both profiles run in UTC.
-#}
{% macro timestamp_text(expression) -%}
    {{ return(adapter.dispatch('timestamp_text', 'mercator')(expression)) }}
{%- endmacro %}

{% macro default__timestamp_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__timestamp_text(expression) -%}
    concat(cast({{ expression }} as string), '+00')
{%- endmacro %}
