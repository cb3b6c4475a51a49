{#-
    Incremental event models (dbt incremental, delete+insert): on an incremental run they read only
    what the deliveries loaded since their last build touch (staging: latest_deliveries with
    new_keys_only). `loaded_watermark()` is the latest delivery time the model already holds (its
    loaded_at column).
-#}
{% macro loaded_watermark() -%}
    (select coalesce(max(loaded_at), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}) from {{ this }})
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
