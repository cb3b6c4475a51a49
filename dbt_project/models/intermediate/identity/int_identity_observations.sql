{#-
    Every identifier seen in every link group (record, or distinct identifier combination of events).
    Incremental: every run rewrites the records' rows (orders, transactions, contacts: a table rebuilt
    each run) and those of the event records (visitor, device, address, phone) whose link groups
    were rebuilt since the last build.
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

changed_event_links as (

    select * from event_links
    where {{ key_has_new_deliveries('event_links', dbt.concat(['source', "'|'", 'entity', "'|'", 'record_id'])) }}

),

final as (

    {{ unpivot_identifiers('record_links', loaded_at=dbt.cast('null', dbt.type_timestamp())) }}
    union all
    {{ unpivot_identifiers('changed_event_links') }}

)

select * from final
