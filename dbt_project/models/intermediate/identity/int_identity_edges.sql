{#-
    Links between identifiers that are not excluded: within each link group, every identifier is
    linked to the group's smallest one (its anchor: a star has the same components as all pairs, and
    far fewer edges). One row per link group and member; int_identity_components reads them in both
    directions. Incremental: the link groups holding an identifier the records logged since the last
    build carry or carried (macros/identity_changes.sql).
-#}
{{ config(
    materialized='incremental',
    unique_key='link_group_id',
    incremental_strategy='delete+insert',
    delete_keys_in='identity_rewritten_groups',
) }}
with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

identifiers as (

    select * from {{ ref('int_identity_identifiers') }}

),

group_members as (

    select distinct
        observations.link_group_id,
        identifiers.identifier_id
    from observations
    inner join identifiers
        on
            observations.identifier_type = identifiers.identifier_type
            and observations.identifier_value = identifiers.identifier_value
    where
        not identifiers.is_excluded
        {% if is_incremental() -%}
        and observations.link_group_id in ({{ identity_touched_groups(this) }})
        {%- endif %}

),

anchored as (

    select
        link_group_id,
        identifier_id,
        min(identifier_id) over (partition by link_group_id) as anchor_id
    from group_members

),

final as (

    select
        link_group_id,
        anchor_id as from_id,
        identifier_id as to_id,
        {{ identity_stamp() }} as loaded_at
    from anchored
    where identifier_id != anchor_id

)

select * from final
