{#-
    A member's holdout bucket in [0, 1): the first 32 bits of md5('<salt>:<key>'), as
    mercator.activation.holdout computes it in Python. Members with a bucket below an audience's
    holdout_share are its holdout.
-#}
{% macro holdout_bucket(key, salt) %}
    {{ return(adapter.dispatch('holdout_bucket', 'mercator')(key, salt)) }}
{% endmacro %}

{% macro default__holdout_bucket(key, salt) %}
    cast(('0x' || substr(md5({{ dbt.concat(["'" ~ salt ~ ":'", key]) }}), 1, 8)) as bigint) / 4294967296.0
{% endmacro %}

{% macro spark__holdout_bucket(key, salt) %}
    cast(conv(substr(md5({{ dbt.concat(["'" ~ salt ~ ":'", key]) }}), 1, 8), 16, 10) as bigint) / 4294967296.0
{% endmacro %}
