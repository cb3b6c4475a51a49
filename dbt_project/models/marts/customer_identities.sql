with

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

final as (

    select
        customer_key,
        identifier_type,
        identifier_value,
        sources,
        first_seen_at,
        last_seen_at,
        is_excluded,
        exclusion_reason
    from customer_identifiers

)

select * from final
