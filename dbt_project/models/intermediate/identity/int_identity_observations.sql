{#- Every identifier seen in every link group (record, or distinct identifier combination of events). -#}
with

record_links as (

    select * from {{ ref('int_identity_record_links') }}

),

event_links as (

    select * from {{ ref('int_identity_event_links') }}

),

links as (

    select * from record_links
    union all
    select * from event_links

),

final as (

    {{ unpivot_identifiers('links') }}

)

select * from final
