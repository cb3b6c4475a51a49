-- int_identity_identifier_usage as a DuckDB user would write it: group sizes by a window, and the
-- self-join for partners only over link groups of more than one identifier.
with observations as (
    select
        identifier_type, identifier_value, link_group_id,
        count(*) over (partition by link_group_id) as group_size
    from intermediate.int_identity_observations
),
usage as (
    select
        identifier_type, identifier_value,
        count(*) as link_group_count,
        count(*) filter (where group_size = 1) as alone_count,
        max(group_size) = 1 as is_never_linked
    from observations
    group by identifier_type, identifier_value
),
co_occurrences as (
    select o.identifier_type, o.identifier_value, count(distinct p.identifier_value) as partner_count
    from observations as o
    inner join observations as p
        on o.link_group_id = p.link_group_id
        and p.identifier_type in ('email', 'phone', 'customer_id', 'contact_id', 'loyalty_id')
        and o.identifier_type != p.identifier_type
    where o.group_size > 1
    group by o.identifier_type, o.identifier_value, p.identifier_type
),
partners as (
    select identifier_type, identifier_value, max(partner_count) as linked_value_count
    from co_occurrences
    group by identifier_type, identifier_value
)
select
    u.identifier_type, u.identifier_value, u.link_group_count, u.alone_count, u.is_never_linked,
    coalesce(p.linked_value_count, 0) as linked_value_count
from usage as u
left join partners as p on u.identifier_type = p.identifier_type and u.identifier_value = p.identifier_value
