{#-
    dbt.dateadd on Spark as on DuckDB: a timestamp (dbt-spark's date_add for days and weeks returns a
    date, dropping the time of day: a window of "one day after a click" would end at midnight).
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
