{#-
    A 64-bit hash of one or more key expressions: equal keys (nulls included) hash alike, different
    keys almost never do. For cheap grouping where a collision only costs an exact second look.
-#}
{% macro key_hash(expressions) -%}
    {{ return(adapter.dispatch('key_hash', 'mercator')(expressions)) }}
{%- endmacro %}

{% macro default__key_hash(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__key_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}
