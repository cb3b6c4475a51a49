{#-
    Log of customer merges: a key absorbed into a surviving key when new data linked two customers.
    Appends the merges of the latest registry run that are not logged yet; never fully refreshed.
-#}
{{ config(materialized='incremental', full_refresh=false) }}
with

registry as (

    select * from {{ ref('int_identity_key_registry') }}

),

latest_run as (

    select max(registry.assigned_at) as assigned_at
    from registry

),

current_keys as (

    select distinct registry.customer_key
    from registry

),

latest_changes as (

    select distinct
        registry.previous_customer_key as absorbed_key,
        registry.customer_key as survivor_key,
        registry.assigned_at as merged_at
    from registry
    inner join latest_run on registry.assigned_at = latest_run.assigned_at
    where registry.previous_customer_key != registry.customer_key

),

final as (

    select
        latest_changes.absorbed_key,
        latest_changes.survivor_key,
        latest_changes.merged_at,
        '{{ invocation_id }}' as invocation_id
    from latest_changes
    left join current_keys on latest_changes.absorbed_key = current_keys.customer_key
    {% if is_incremental() %}
        left join {{ this }} as already_logged
            on
                latest_changes.absorbed_key = already_logged.absorbed_key
                and latest_changes.merged_at = already_logged.merged_at
    {% endif %}
    where
        current_keys.customer_key is null
        {% if is_incremental() %}
            and already_logged.absorbed_key is null
        {% endif %}

)

select * from final
