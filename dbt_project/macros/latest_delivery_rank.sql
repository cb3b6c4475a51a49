{#- Rank of a raw row among the rows sharing its key: 1 = the latest delivery (file, then line). -#}
{% macro latest_delivery_rank(key_columns) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _loaded_at desc, _file desc, _line desc
    )
{%- endmacro %}
