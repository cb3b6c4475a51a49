{#-
    Incremental event models (dbt incremental, delete+insert): on an incremental run they read only
    what the deliveries loaded since their last build touch. `loaded_watermark()` is the latest
    delivery time the model already holds (its loaded_at column); on a full build nothing is filtered.
-#}
{% macro loaded_watermark(column='loaded_at') -%}
    (select coalesce(max({{ column }}), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}) from {{ this }})
{%- endmacro %}

{#-
    A CTE `<name>` with the rows of `relation` (a raw table) whose key was delivered since the
    model's last build, every delivered version of those keys (to rank them again), or all rows on a
    full build.
-#}
{% macro rows_of_new_deliveries(relation, key_columns, name='delivered') -%}
{%- if is_incremental() -%}
{{ name }}_new_keys as (

    select distinct
        {%- for key in key_columns %}
        {{ key }} as new_key_{{ loop.index }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    where _loaded_at > {{ loaded_watermark() }}

),

{{ name }} as (

    select {{ relation }}.*
    from {{ relation }}
    inner join {{ name }}_new_keys
        on {% for key in key_columns %}{{ key }} is not distinct from {{ name }}_new_keys.new_key_{{ loop.index }}{% if not loop.last %} and {% endif %}{% endfor %}

)
{%- else -%}
{{ name }} as (

    select * from {{ relation }}

)
{%- endif -%}
{%- endmacro %}

{#-
    A condition on `key_column`: on an incremental run, true when the value occurs in a row of
    `relation` loaded since the model's last build (every event of a visitor with new events, say);
    always true on a full build.
-#}
{% macro key_has_new_deliveries(relation, key_column) -%}
    {%- if is_incremental() -%}
    {{ key_column }} in (select {{ key_column }} from {{ relation }} where loaded_at > {{ loaded_watermark() }})
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
