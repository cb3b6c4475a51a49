{#-
    Every identifier of the graph once, with its id (macro identifier_id: a hash, the same in every
    run and on every engine) and where and when it was seen. Incremental: the identifiers the
    records logged since the last build carry or carried (macros/identity_changes.sql); one no
    record carries any more is deleted.
-#}
{{ config(
    materialized='incremental',
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    delete_keys_in='identity_rewritten_identifiers',
) }}
with

all_observations as (

    select * from {{ ref('int_identity_observations') }}

),

excluded as (

    select * from {{ ref('int_identity_excluded_identifiers') }}

),

{% if is_incremental() -%}
observations as (

    select all_observations.*
    from all_observations
    inner join ({{ identity_touched_identifiers(this) }}) as touched
        on
            all_observations.identifier_type = touched.identifier_type
            and all_observations.identifier_value = touched.identifier_value

),
{%- else -%}
observations as (

    select * from all_observations

),
{%- endif %}

by_source as (

    select
        identifier_type,
        identifier_value,
        source,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as link_group_count
    from observations
    group by identifier_type, identifier_value, source

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        {{ ordered_listagg('source', "','", ['source']) }} as sources,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(link_group_count) as link_group_count
    from by_source
    group by identifier_type, identifier_value

),

final as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.sources,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.link_group_count,
        excluded.reason as exclusion_reason,
        {{ identifier_id('identifiers.identifier_type', 'identifiers.identifier_value') }} as identifier_id,
        excluded.identifier_type is not null as is_excluded,
        {{ identity_stamp() }} as loaded_at
    from identifiers
    left join excluded
        on
            identifiers.identifier_type = excluded.identifier_type
            and identifiers.identifier_value = excluded.identifier_value

)

select * from final
