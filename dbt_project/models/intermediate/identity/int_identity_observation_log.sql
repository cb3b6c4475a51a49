{#-
    Every version of every record's observations, appended as it becomes current (stamped with its
    record_loaded_at): what a record carried before its latest version is what the identity graph's
    incremental models must revisit (an identifier a contact no longer carries may lose its links).
    A full refresh keeps only the current versions.
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}
with

observations as (

    select * from {{ ref('int_identity_observations') }}

),

final as (

    select
        source,
        entity,
        record_id,
        link_group_id,
        identifier_type,
        identifier_value,
        record_loaded_at
    from observations
    {% if is_incremental() -%}
    where record_loaded_at > (
        select coalesce(max(record_loaded_at), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}) from {{ this }}
    )
    {%- endif %}

)

select * from final
