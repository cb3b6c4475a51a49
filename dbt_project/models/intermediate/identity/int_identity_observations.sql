{#-
    Every identifier seen in every link group (record, or distinct identifier combination of events),
    with record_loaded_at, when the record's current version was delivered (its latest event for a
    visitor, device, address or phone). Incremental: every run rewrites the rows of the records
    delivered since the last build (orders, transactions, contacts) and of the event records whose
    link groups were rebuilt since then.
-#}
{{ config(
    materialized='incremental', unique_key=['source', 'entity', 'record_id'], incremental_strategy='delete+insert'
) }}
with

record_links as (

    select * from {{ ref('int_identity_record_links') }}

),

event_links as (

    select * from {{ ref('int_identity_event_links') }}

),

changed_record_links as (

    select
        *,
        loaded_at as record_loaded_at
    from record_links
    {% if is_incremental() -%}
    where loaded_at > (
        select coalesce(max(record_loaded_at), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}) from {{ this }}
        where loaded_at is null
    )
    {%- endif %}

),

changed_event_links as (

    select
        *,
        max(loaded_at) over (partition by source, entity, record_id) as record_loaded_at
    from event_links
    where {{ key_has_new_deliveries('event_links', dbt.concat(['source', "'|'", 'entity', "'|'", 'record_id'])) }}

),

final as (

    {{ unpivot_identifiers('changed_record_links', loaded_at=dbt.cast('null', dbt.type_timestamp())) }}
    union all
    {{ unpivot_identifiers('changed_event_links') }}

)

select * from final
