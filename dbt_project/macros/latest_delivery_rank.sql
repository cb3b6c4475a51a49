{#-
    Rank of a raw row among the rows sharing its key: 1 = the latest version. With a
    `version_column` (the source's updated_at), the latest version is the row with the latest
    value, a row without one counting as of its delivery (_loaded_at); ties, and entities without
    a version column, go to the latest delivery (file, then line).
-#}
{% macro latest_delivery_rank(key_columns, version_column=none) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {%- if version_column %} coalesce({{ version_column }}, _loaded_at) desc,{% endif %}
            _loaded_at desc, _file desc, _line desc
    )
{%- endmacro %}
