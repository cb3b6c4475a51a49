{#-
    The delete+insert incremental strategy on Spark with Parquet tables (dbt-spark offers merge only
    for Delta, Iceberg and Hudi). The rows of the table whose unique_key the new rows do not carry,
    and the new rows, are first written to <model>__dbt_staged (a Parquet table: Spark cannot
    overwrite a table that the same statement reads), which then overwrites the table. These two
    overrides of dbt-spark's macros add the strategy and hand every other one to dbt-spark. Rows
    whose key the macro named by config delete_keys_in selects are dropped too (macros/delete_keys_in.sql;
    it renders here, against the table before it is overwritten).
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'delete+insert' -%}
        {% do return(raw_strategy) %}
    {%- endif -%}
    {% do return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) %}
{% endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy != 'delete+insert' -%}
        {{ return(dbt.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- set staged = target.incorporate(path={'identifier': target.identifier ~ '__dbt_staged'}) -%}
    {%- do run_query('drop table if exists ' ~ staged) -%}
    {%- set stage -%}
        create table {{ staged }} using parquet as
        select {{ columns }} from {{ target }} as kept
        left anti join {{ source }} as new_rows
            on {% for key in keys %}kept.{{ key }} = new_rows.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
        {%- if config.get('delete_keys_in') %}
        left anti join ({{ context[config.get('delete_keys_in')](target) }}) as deleted
            on {% for key in keys %}kept.{{ key }} = deleted.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
        {%- endif %}
        union all
        select {{ columns }} from {{ source }}
    {%- endset -%}
    {%- do run_query(stage) -%}
    insert overwrite table {{ target }} select {{ columns }} from {{ staged }}
{% endmacro %}
