{#-
    How every identifier is used: in how many link groups, how many of them hold it alone, and the
    largest number of distinct values of one person-naming type (email, phone, customer_id,
    contact_id, loyalty_id) it was seen with.
-#}
with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

group_sizes as (

    select
        link_group_id,
        count(*) as identifier_count
    from observations
    group by link_group_id

),

co_occurrences as (

    select
        observations.identifier_type,
        observations.identifier_value,
        partners.identifier_type as partner_type,
        count(distinct partners.identifier_value) as partner_count
    from observations
    inner join observations as partners
        on
            observations.link_group_id = partners.link_group_id
            and partners.identifier_type in ('email', 'phone', 'customer_id', 'contact_id', 'loyalty_id')
            and observations.identifier_type != partners.identifier_type
    group by observations.identifier_type, observations.identifier_value, partners.identifier_type

),

partners as (

    select
        identifier_type,
        identifier_value,
        max(partner_count) as linked_value_count
    from co_occurrences
    group by identifier_type, identifier_value

),

usage as (

    select
        observations.identifier_type,
        observations.identifier_value,
        count(*) as link_group_count,
        sum(case when group_sizes.identifier_count = 1 then 1 else 0 end) as alone_count,
        max(group_sizes.identifier_count) as max_group_size
    from observations
    inner join group_sizes on observations.link_group_id = group_sizes.link_group_id
    group by observations.identifier_type, observations.identifier_value

),

final as (

    select
        usage.identifier_type,
        usage.identifier_value,
        usage.link_group_count,
        usage.alone_count,
        usage.max_group_size = 1 as is_never_linked,
        coalesce(partners.linked_value_count, 0) as linked_value_count
    from usage
    left join partners
        on
            usage.identifier_type = partners.identifier_type
            and usage.identifier_value = partners.identifier_value

)

select * from final
