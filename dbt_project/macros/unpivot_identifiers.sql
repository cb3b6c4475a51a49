{#-
    One row per identifier a record carries: the wide identifier columns of `relation` (a CTE with
    source, entity, record_id, link_group_id, first_seen_at, last_seen_at and one column per
    identifier type) as (identifier_type, identifier_value) rows, nulls dropped, with `loaded_at`
    (an expression; the relation's column by default).
-#}
{% macro unpivot_identifiers(relation, loaded_at='loaded_at') -%}
    {%- for identifier_type in identifier_types() %}
    select
        source,
        entity,
        record_id,
        link_group_id,
        '{{ identifier_type }}' as identifier_type,
        {{ identifier_type }} as identifier_value,
        first_seen_at,
        last_seen_at,
        {{ loaded_at }} as loaded_at
    from {{ relation }}
    where {{ identifier_type }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The identifier types of the identity graph; the first five name a person, the others a browser or device. -#}
{% macro identifier_types() -%}
    {{ return(['email', 'phone', 'customer_id', 'contact_id', 'loyalty_id', 'anonymous_id', 'device_id']) }}
{%- endmacro %}
