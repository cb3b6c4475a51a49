{#-
    Two CTEs, `<name>_duplicate_keys` and `<name>`: the rows of `relation` with `delivery_rank`, the
    rank of a row among the rows sharing its key (1 = the latest version, see latest_delivery_rank).
    Only the rows of keys that occur more than once are ranked (a window over all rows sorts every
    row; duplicates are rare), the others get rank 1.
-#}
{% macro latest_deliveries(relation, key_columns, version_column=none, name='ranked') -%}
{%- set keys_match -%}
    {%- for key in key_columns %}{{ key }} is not distinct from {{ name }}_duplicate_keys.duplicate_key_{{ loop.index }}{% if not loop.last %} and {% endif %}{% endfor -%}
{%- endset -%}
{{ name }}_duplicate_keys as (

    select
        {%- for key in key_columns %}
        {{ key }} as duplicate_key_{{ loop.index }},
        {%- endfor %}
        true as is_duplicate
    from {{ relation }}
    group by {% for key in key_columns %}{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
    having count(*) > 1

),

{{ name }} as (

    select
        {{ relation }}.*,
        1 as delivery_rank
    from {{ relation }}
    left join {{ name }}_duplicate_keys
        on {{ keys_match }}
    where {{ name }}_duplicate_keys.is_duplicate is null

    union all

    select
        {{ relation }}.*,
        {{ latest_delivery_rank(key_columns, version_column) }} as delivery_rank
    from {{ relation }}
    inner join {{ name }}_duplicate_keys
        on {{ keys_match }}

)
{%- endmacro %}
