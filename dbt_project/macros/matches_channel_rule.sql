{#- Join condition: a row of the seed channel_groupings (alias `rules`) matches this source and medium. -#}
{% macro matches_channel_rule(source_expr, medium_expr, rules='rules') -%}
    ({{ rules }}.source_like is null or {{ source_expr }} like {{ rules }}.source_like)
    and ({{ rules }}.medium_like is null or {{ medium_expr }} like {{ rules }}.medium_like)
{%- endmacro %}
