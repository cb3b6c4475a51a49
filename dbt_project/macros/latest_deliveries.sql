{#-
    Two CTEs, `<name>_duplicate_keys` and `<name>`: the rows of `relation` with `delivery_rank`, the
    rank of a row among the rows sharing its key (1 = the latest version, see latest_delivery_rank).
    Only the rows of keys that occur more than once are ranked (a window over all rows sorts every
    row; duplicates are rare), the others get rank 1. Keys are counted by their hash (key_hash: an
    aggregate over one integer instead of the key text); a key whose hash collides with another's is
    merely ranked too, within its own key, so the result is exact. `relation` is read three times: pass the raw
    table itself, not a CTE over it (DuckDB would materialise the CTE: every raw row copied once more),
    and key expressions (`trim(order_id)`) rather than computed columns.

    With `new_keys_only` on an incremental run (models/staging: the event models), only the keys
    delivered since the model's last build (`_loaded_at` after its latest `loaded_at`) are ranked,
    every delivered version of them included, in CTE `<name>_new_keys`.
-#}
{% macro latest_deliveries(relation, key_columns, version_column=none, name='ranked', new_keys_only=false) -%}
{%- set keys_match -%}
    {{ key_hash(key_columns) }} = {{ name }}_duplicate_keys.duplicate_key_hash
{%- endset -%}
{%- set new_keys = new_keys_only and is_incremental() -%}
{%- if new_keys -%}
{{ name }}_new_keys as (

    select distinct
        {%- for key in key_columns %}
        {{ key }} as new_key_{{ loop.index }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    where _loaded_at > {{ loaded_watermark() }}

),

{% endif -%}
{%- set rows -%}
    {%- if new_keys -%}
    (
        select delivered.*
        from {{ relation }} as delivered
        inner join {{ name }}_new_keys
            on {% for key in key_columns %}{{ key }} is not distinct from {{ name }}_new_keys.new_key_{{ loop.index }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endset -%}
{{ name }}_duplicate_keys as (

    select
        {{ key_hash(key_columns) }} as duplicate_key_hash,
        true as is_duplicate
    from {{ rows }} as {{ name }}_keyed
    group by {{ key_hash(key_columns) }}
    having count(*) > 1

),

{{ name }} as (

    select
        {{ name }}_rows.*,
        1 as delivery_rank
    from {{ rows }} as {{ name }}_rows
    left join {{ name }}_duplicate_keys
        on {{ keys_match }}
    where {{ name }}_duplicate_keys.is_duplicate is null

    union all

    select
        {{ name }}_rows.*,
        {{ latest_delivery_rank(key_columns, version_column) }} as delivery_rank
    from {{ rows }} as {{ name }}_rows
    inner join {{ name }}_duplicate_keys
        on {{ keys_match }}

)
{%- endmacro %}
