{#-
    Links between identifiers that are not excluded: within each link group, every identifier is
    linked to the group's smallest one (a star: same components as all pairs, far fewer edges),
    in both directions.
-#}
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
    where not identifiers.is_excluded

),

anchored as (

    select
        link_group_id,
        identifier_id,
        min(identifier_id) over (partition by link_group_id) as anchor_id
    from group_members

),

final as (

    select distinct
        anchor_id as from_id,
        identifier_id as to_id
    from anchored
    where identifier_id != anchor_id

    union

    select distinct
        identifier_id as from_id,
        anchor_id as to_id
    from anchored
    where identifier_id != anchor_id

)

select * from final
