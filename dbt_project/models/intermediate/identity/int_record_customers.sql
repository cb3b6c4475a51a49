{#-
    The customer of every person-bearing record: orders, POS transactions, CRM contacts, web
    visitors (anonymous_id) and app devices (device_id). Null when the record carries no identifier
    that may link (none, or only excluded ones), or when its identifiers resolve to different
    customers (a visitor whose shared anonymous_id was excluded).
-#}
with

record_links as (

    select * from {{ ref('int_identity_record_links') }}

),

event_links as (

    select * from {{ ref('int_identity_event_links') }}

),

observations as (

    select * from {{ ref('int_identity_observations') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

records as (

    select
        source,
        entity,
        record_id
    from record_links
    union
    select
        source,
        entity,
        record_id
    from event_links
    where entity in ('visitors', 'devices')

),

record_keys as (

    select
        observations.source,
        observations.entity,
        observations.record_id,
        count(distinct customer_identifiers.customer_key) as customer_key_count,
        max(customer_identifiers.customer_key) as customer_key
    from observations
    inner join customer_identifiers
        on
            observations.identifier_type = customer_identifiers.identifier_type
            and observations.identifier_value = customer_identifiers.identifier_value
    where customer_identifiers.customer_key is not null
    group by observations.source, observations.entity, observations.record_id

),

final as (

    select
        records.source,
        records.entity,
        records.record_id,
        case when record_keys.customer_key_count = 1 then record_keys.customer_key end as customer_key
    from records
    left join record_keys
        on
            records.source = record_keys.source
            and records.entity = record_keys.entity
            and records.record_id = record_keys.record_id

)

select * from final
