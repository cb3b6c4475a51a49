{#-
    The identity graph's id of an identifier: the first 60 bits of the md5 of "type:value", as a
    bigint. The same on every engine and in every run, so an identifier keeps its id as others
    arrive (the graph is rebuilt only where a day's data touches it) and the smallest id of a
    component, which names a new customer, does not depend on the engine.
-#}
{% macro identifier_id(identifier_type, identifier_value) -%}
    {{ return(adapter.dispatch('identifier_id', 'mercator')(identifier_type, identifier_value)) }}
{%- endmacro %}

{% macro default__identifier_id(identifier_type, identifier_value) -%}
    cast(('0x' || substr(md5({{ identifier_type }} || ':' || {{ identifier_value }}), 1, 15)) as bigint)
{%- endmacro %}

{% macro spark__identifier_id(identifier_type, identifier_value) -%}
    cast(conv(substr(md5(concat({{ identifier_type }}, ':', {{ identifier_value }})), 1, 15), 16, 10) as bigint)
{%- endmacro %}
