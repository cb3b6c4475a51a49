{#-
    The customer key of every identifier ever resolved; keys survive new data. Each run, every
    component keeps a key its identifiers already had: a previous key goes to the component holding
    most of its identifiers, and a component offered several keeps the oldest (the others are
    absorbed: see customer_key_merges). A component with no previous key gets the hash of its
    smallest identifier. Only changed rows are written; full refreshes are refused.
-#}
{{ config(
    materialized='incremental',
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    full_refresh=false,
) }}
{%- set this_run = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
with

identifiers as (

    select * from {{ ref('int_identity_identifiers') }}

),

components as (

    select * from {{ ref('int_identity_components') }}

),

previous as (

    {% if is_incremental() %}
        select * from {{ this }}
    {% else %}
        select
            {% for column in ['identifier_type', 'identifier_value', 'customer_key', 'previous_customer_key'] -%}
                cast(null as {{ dbt.type_string() }}) as {{ column }},
            {% endfor -%}
            {{ this_run }} as key_created_at,
            {{ this_run }} as assigned_at
        where 1 = 0
    {% endif %}

),

resolved as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        components.component_id,
        previous.customer_key as previous_customer_key,
        previous.key_created_at as previous_key_created_at
    from components
    inner join identifiers on components.identifier_id = identifiers.identifier_id
    left join previous
        on
            identifiers.identifier_type = previous.identifier_type
            and identifiers.identifier_value = previous.identifier_value

),

claims as (

    select
        component_id,
        previous_customer_key as customer_key,
        min(previous_key_created_at) as key_created_at,
        count(*) as identifier_count,
        row_number() over (
            partition by previous_customer_key order by count(*) desc, component_id
        ) as claim_rank
    from resolved
    where previous_customer_key is not null
    group by component_id, previous_customer_key

),

kept_keys as (

    select
        component_id,
        customer_key,
        key_created_at,
        row_number() over (partition by component_id order by key_created_at, customer_key) as key_rank
    from claims
    where claim_rank = 1

),

new_keys as (

    select
        components.component_id,
        {{ dbt.hash(dbt.concat(['identifiers.identifier_type', "':'", 'identifiers.identifier_value'])) }}
            as customer_key
    from components
    inner join identifiers on components.component_id = identifiers.identifier_id
    where components.component_id = components.identifier_id

),

component_keys as (

    select
        new_keys.component_id,
        case
            when kept_keys.customer_key is not null then kept_keys.customer_key
            when new_keys.customer_key in (select previous_keys.customer_key from previous as previous_keys)
                then {{ dbt.hash(dbt.concat(['new_keys.customer_key', "':" ~ invocation_id ~ "'"])) }}
            else new_keys.customer_key
        end as customer_key,
        coalesce(kept_keys.key_created_at, {{ this_run }}) as key_created_at
    from new_keys
    left join kept_keys on new_keys.component_id = kept_keys.component_id and kept_keys.key_rank = 1

),

final as (

    select
        resolved.identifier_type,
        resolved.identifier_value,
        component_keys.customer_key,
        resolved.previous_customer_key,
        component_keys.key_created_at,
        {{ this_run }} as assigned_at
    from resolved
    inner join component_keys on resolved.component_id = component_keys.component_id
    where resolved.previous_customer_key is null or resolved.previous_customer_key != component_keys.customer_key

)

select * from final
