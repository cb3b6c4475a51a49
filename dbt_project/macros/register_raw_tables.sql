{#-
    on-run-start: make the source raw's tables readable. On DuckDB they are the warehouse's own. On
    Spark, each is the Parquet export that mercator.spark.export_raw wrote to
    <MERCATOR_SPARK_DIR>/raw/<table>/, registered as an external table (one statement at a time:
    the hook itself returns no SQL).
-#}
{% macro register_raw_tables() %}
    {{ return(adapter.dispatch('register_raw_tables', 'mercator')()) }}
{% endmacro %}

{% macro default__register_raw_tables() %}
{% endmacro %}

{% macro spark__register_raw_tables() %}
    {%- if execute -%}
        {%- set folder = env_var('MERCATOR_SPARK_DIR', '../warehouse/spark') ~ '/raw/' -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
            {%- do run_query('drop table if exists raw.' ~ source.identifier) -%}
            {%- do run_query(
                'create table raw.' ~ source.identifier ~ ' using parquet location \'' ~ folder ~ source.identifier ~ '\''
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
