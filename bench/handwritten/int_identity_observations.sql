-- int_identity_observations (full build) as a DuckDB user would write it: both link tables in one
-- relation, UNPIVOT (which drops the nulls).
with links as (
    select
        source, entity, record_id, link_group_id, first_seen_at, last_seen_at, cast(null as timestamptz) as loaded_at,
        email, phone, customer_id, contact_id, loyalty_id, anonymous_id, device_id
    from intermediate.int_identity_record_links
    union all
    select
        source, entity, record_id, link_group_id, first_seen_at, last_seen_at, loaded_at,
        email, phone, customer_id, contact_id, loyalty_id, anonymous_id, device_id
    from intermediate.int_identity_event_links
)
select
    source, entity, record_id, link_group_id, identifier_type, identifier_value, first_seen_at, last_seen_at,
    loaded_at
from (
    unpivot links
    on email, phone, customer_id, contact_id, loyalty_id, anonymous_id, device_id
    into name identifier_type value identifier_value
)
