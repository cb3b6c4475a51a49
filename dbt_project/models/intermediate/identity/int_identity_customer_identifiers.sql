{#- Every identifier of the current graph with its customer key (null when excluded from linking). -#}
with

identifiers as (

    select * from {{ ref('int_identity_identifiers') }}

),

registry as (

    select * from {{ ref('int_identity_key_registry') }}

),

final as (

    select
        registry.customer_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.sources,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.link_group_count,
        identifiers.is_excluded,
        identifiers.exclusion_reason
    from identifiers
    left join registry
        on
            identifiers.identifier_type = registry.identifier_type
            and identifiers.identifier_value = registry.identifier_value
            and not identifiers.is_excluded

)

select * from final
