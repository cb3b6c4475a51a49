{#- Generic test: no two rows share the same values of the given columns (a composite key). -#}
{% test unique_combination(model, columns) %}
{{ hashed_duplicates(model, columns, 'n_rows') }}
{% endtest %}

{#-
    dbt's `unique` test, on the engines Mercator runs: the same failing rows, found by hash first
    (see hashed_duplicates). dbt_project.yml's dispatch config puts these before dbt's own.
-#}
{% macro duckdb__test_unique(model, column_name) %}
{{ hashed_duplicates(model, [column_name], 'n_records', column_name ~ ' is not null', column_name ~ ' as unique_field') }}
{% endmacro %}

{% macro spark__test_unique(model, column_name) %}
{{ duckdb__test_unique(model, column_name) }}
{% endmacro %}

{#-
    The rows of `columns` values that occur more than once in `model` (with their count as
    `count_name`), rows failing `where` left out. Keys are first counted by their hash (key_hash, an
    aggregate over one integer); only the keys of hashes seen twice are then counted exactly, so a
    collision costs a look, never a wrong answer.
-#}
{% macro hashed_duplicates(model, columns, count_name, where='true', select=none) %}

with repeated_hashes as (

    select {{ key_hash(columns) }} as key_hash
    from {{ model }}
    where {{ where }}
    group by {{ key_hash(columns) }}
    having count(*) > 1

)

select
    {{ select or columns | join(', ') }},
    count(*) as {{ count_name }}
from {{ model }}
where {{ where }} and {{ key_hash(columns) }} in (select key_hash from repeated_hashes)
group by {{ columns | join(', ') }}
having count(*) > 1

{% endmacro %}
