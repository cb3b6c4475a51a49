{#-
    Every identifier of the graph once, numbered in (type, value) order, with where and when it was
    seen. Numbered within each type, offset by the identifiers of the types before it: the same numbers
    as one window over (type, value), without an unpartitioned window (one task on Spark).
-#}
with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

excluded as (

    select * from {{ ref('int_identity_excluded_identifiers') }}

),

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

type_offsets as (

    select
        identifier_type,
        coalesce(sum(count(*)) over (
            order by identifier_type rows between unbounded preceding and 1 preceding
        ), 0) as id_offset
    from identifiers
    group by identifier_type

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
        type_offsets.id_offset + row_number() over (
            partition by identifiers.identifier_type order by identifiers.identifier_value
        ) as identifier_id,
        excluded.identifier_type is not null as is_excluded
    from identifiers
    inner join type_offsets on identifiers.identifier_type = type_offsets.identifier_type
    left join excluded
        on
            identifiers.identifier_type = excluded.identifier_type
            and identifiers.identifier_value = excluded.identifier_value

)

select * from final
