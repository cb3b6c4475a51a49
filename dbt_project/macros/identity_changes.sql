{#-
    What the identity graph's incremental models rebuild. int_identity_observation_log keeps every
    version of every record's observations, stamped with record_loaded_at; each graph model carries a
    loaded_at column, the latest record_loaded_at it has seen (`identity_stamp()` when it writes), and
    on an incremental run rebuilds what the records logged since then touch: every identifier any
    version of them carried (its usage, exclusion, links and component may change, or it may vanish)
    and every link group that holds one. Each model works from its own stamp, so a run stopped
    half-way leaves nothing behind. All of them name a `delete_keys_in` macro below, so that keys
    which vanish are deleted too (macros/delete_keys_in.sql). On a full build, everything.
-#}

{#- The latest record version logged: what a run has seen, written as every new row's loaded_at. -#}
{% macro identity_stamp() -%}
    (select max(record_loaded_at) from {{ ref('int_identity_observation_log') }})
{%- endmacro %}

{#- The records (source, entity, record_id) logged since `relation`'s stamp. -#}
{% macro identity_touched_records(relation) -%}
    select distinct source, entity, record_id
    from {{ ref('int_identity_observation_log') }}
    where record_loaded_at > {{ loaded_watermark(relation) }}
{%- endmacro %}

{#- Every row, in any version, of the records logged since `relation`'s stamp. -#}
{% macro identity_touched_log_rows(relation) -%}
    select logged.*
    from {{ ref('int_identity_observation_log') }} as logged
    inner join ({{ identity_touched_records(relation) }}) as touched
        on
            logged.source = touched.source
            and logged.entity = touched.entity
            and logged.record_id = touched.record_id
{%- endmacro %}

{#- The identifiers (identifier_type, identifier_value) the records logged since `relation`'s stamp carry or carried. -#}
{% macro identity_touched_identifiers(relation) -%}
    select distinct identifier_type, identifier_value from ({{ identity_touched_log_rows(relation) }}) as touched_rows
{%- endmacro %}

{#- The link groups (link_group_id), in any version, holding an identifier touched since `relation`'s stamp. -#}
{% macro identity_touched_groups(relation) -%}
    select distinct logged.link_group_id
    from {{ ref('int_identity_observation_log') }} as logged
    inner join ({{ identity_touched_identifiers(relation) }}) as touched
        on
            logged.identifier_type = touched.identifier_type
            and logged.identifier_value = touched.identifier_value
{%- endmacro %}

{#- delete_keys_in macros: the keys an incremental run of the model rewrites, deleted before its rows are inserted. -#}
{% macro identity_rewritten_identifiers(target) -%}
    {{ identity_touched_identifiers(target) }}
{%- endmacro %}

{% macro identity_rewritten_groups(target) -%}
    {{ identity_touched_groups(target) }}
{%- endmacro %}

{#-
    int_identity_components' delete_keys_in: the identifiers (identifier_id) of the link groups touched
    since `target`'s stamp, in any version, and every identifier of their components in `target`.
-#}
{% macro identity_relabelled_identifiers(target) -%}
    select {{ identifier_id('logged.identifier_type', 'logged.identifier_value') }} as identifier_id
    from {{ ref('int_identity_observation_log') }} as logged
    where logged.link_group_id in ({{ identity_touched_groups(target) }})
    union
    select previous.identifier_id
    from {{ target }} as previous
    where previous.component_id in (
        select touched_previous.component_id
        from {{ target }} as touched_previous
        inner join {{ ref('int_identity_observation_log') }} as logged
            on touched_previous.identifier_id = {{ identifier_id('logged.identifier_type', 'logged.identifier_value') }}
        where logged.link_group_id in ({{ identity_touched_groups(target) }})
    )
{%- endmacro %}
