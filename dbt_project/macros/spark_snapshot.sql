{#-
    Snapshots on Spark with Parquet tables. dbt-spark's snapshot materialization requires Delta,
    Iceberg or Hudi (it merges); this one is dbt-spark's with the format checks dropped and the merge
    done as on delete+insert (macros/spark_delete_insert.sql): the snapshot with the current versions
    that changed or disappeared closed, plus the new versions, is written to <snapshot>__dbt_staged,
    which then overwrites the snapshot.
-#}
{% materialization snapshot, adapter='spark' %}
    {%- set strategy_name = config.get('strategy') -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set target_relation_exists, target_relation = get_or_create_relation(
        database=none, schema=model.schema, identifier=model.get('alias', model.get('name')), type='table'
    ) -%}
    {%- if not adapter.check_schema_exists(model.database, model.schema) -%}
        {%- do create_schema(model.schema) -%}
    {%- endif -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- set strategy = strategy_dispatch(strategy_name)(
        model, "snapshotted_data", "source_data", model['config'], target_relation_exists
    ) -%}
    {%- if not target_relation_exists -%}
        {%- set final_sql = create_table_as(False, target_relation, build_snapshot_table(strategy, model['compiled_code'])) -%}
    {%- else -%}
        {%- set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}
        {{ adapter.valid_snapshot_target(target_relation, columns) }}
        {%- set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) -%}
        {%- set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
            | rejectattr('name', 'in', ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key', 'DBT_UNIQUE_KEY'])
            | list -%}
        {%- do create_columns(target_relation, missing_columns) -%}
        {%- set final_sql = spark_parquet_snapshot_merge(target_relation, staging_table, columns) -%}
    {%- endif -%}
    {% call statement('main') %}
        {{ final_sql }}
    {% endcall %}
    {%- do apply_grants(target_relation, grant_config, should_revoke(target_relation_exists, full_refresh_mode)) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {%- if staging_table is defined -%}
        {%- do post_snapshot(staging_table) -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- What dbt-spark's merge does (close matched current versions, insert new ones), as a staged overwrite. -#}
{% macro spark_parquet_snapshot_merge(target, staging, columns) %}
    {%- set names = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set staged = target.incorporate(path={'identifier': target.identifier ~ '__dbt_staged'}) -%}
    {%- set scd_id, valid_to = columns.dbt_scd_id, columns.dbt_valid_to -%}
    {%- do run_query('drop table if exists ' ~ staged) -%}
    {%- set stage -%}
        create table {{ staged }} using parquet as
        select
            {%- for name in names %}
            {% if name == valid_to -%}
                case when closing.{{ scd_id }} is not null then closing.{{ valid_to }} else kept.{{ valid_to }} end
            {%- else -%}
                kept.{{ adapter.quote(name) }}
            {%- endif %} as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ target }} as kept
        left join {{ staging }} as closing
            on
                kept.{{ scd_id }} = closing.{{ scd_id }}
                and kept.{{ valid_to }} is null
                and closing.dbt_change_type in ('update', 'delete')
        union all
        select {% for name in names %}new_versions.{{ adapter.quote(name) }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ staging }} as new_versions
        left anti join {{ target }} as kept on new_versions.{{ scd_id }} = kept.{{ scd_id }}
        where new_versions.dbt_change_type = 'insert'
    {%- endset -%}
    {%- do run_query(stage) -%}
    insert overwrite table {{ target }} select * from {{ staged }}
{% endmacro %}
