{#-
    delete+insert deletes the rows of the keys its new rows carry; a model whose keys can vanish (a
    journey whose touchpoints moved to another journey) names in config delete_keys_in a macro that,
    given the table being built, selects every key the run rewrites (columns named as the unique
    key; macros/journey_rewrites.sql): their rows are deleted too. The macro renders at run time,
    against the table itself, before the delete changes it. On DuckDB this runs before dbt-duckdb's
    own delete+insert; Spark: macros/spark_delete_insert.sql.
-#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set keys_in = config.get('delete_keys_in') -%}
    {%- if keys_in -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    delete from {{ target }}
    where ({{ keys | join(', ') }}) in (select {{ keys | join(', ') }} from ({{ context[keys_in](target) }}) as deleted);
    {% endif -%}
    {{ dbt.duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
