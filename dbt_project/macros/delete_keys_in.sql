{#-
    delete+insert deletes the rows of the keys its new rows carry; a model whose keys can vanish (a
    journey whose touchpoints moved to another journey) names in config delete_keys_in a model
    listing every key the run rewrites (columns named as the unique key), whose rows are deleted too.
    On DuckDB this runs before dbt-duckdb's own delete+insert; Spark: macros/spark_delete_insert.sql.
-#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set keys_in = config.get('delete_keys_in') -%}
    {%- if keys_in -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    delete from {{ target }}
    where ({{ keys | join(', ') }}) in (select {{ keys | join(', ') }} from {{ ref(keys_in) }});
    {% endif -%}
    {{ dbt.duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
