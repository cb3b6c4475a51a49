{#-
    The journey of every touchpoint identifier (visitor, device, address: its customer through the
    identity graph, else itself) and of every conversion (its customer). Append-only: each run adds a
    row for every member that is new or whose journey or state changed (state: the latest delivery
    of an identifier's touchpoints; a conversion's time, value and first-order flag), with
    previous_journey_key and the run's assigned_at; a conversion that is gone gets a row with a null
    journey. A member's latest row is its current journey. The history lets every incremental model
    downstream rewrite the journeys changed since it last ran, however many runs stopped in between
    (macros/journey_rewrites.sql).
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}
{%- set no_time = dbt.cast('null', dbt.type_timestamp()) -%}
with

touchpoints as (

    select * from {{ ref('int_touchpoints') }}
    {% if is_incremental() %}where loaded_at > {{ loaded_watermark() }}{% endif %}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

conversions as (

    select * from {{ ref('int_attribution_conversions') }}

),

previous as (

    {% if is_incremental() %}
        select
            identifier_type,
            identifier_value,
            journey_key,
            state,
            loaded_at
        from (
            select
                *,
                row_number() over (
                    partition by identifier_type, identifier_value order by assigned_at desc
                ) as recency
            from {{ this }}
        ) as history
        where recency = 1
    {% else %}
        select
            {% for column in ['identifier_type', 'identifier_value', 'journey_key', 'state'] -%}
                cast(null as {{ dbt.type_string() }}) as {{ column }},
            {% endfor -%}
            {{ no_time }} as loaded_at
        where 1 = 0
    {% endif %}

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        max(loaded_at) as loaded_at
    from (
        select identifier_type, identifier_value, loaded_at from touchpoints
        union all
        select identifier_type, identifier_value, loaded_at from previous where identifier_type != 'order_key'
    ) as seen
    group by identifier_type, identifier_value

),

keyed as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.loaded_at,
        coalesce(record_customers.customer_key, customer_identifiers.customer_key) as customer_key
    from identifiers
    left join record_customers
        on
            identifiers.identifier_value = record_customers.record_id
            and (
                (identifiers.identifier_type = 'anonymous_id' and record_customers.entity = 'visitors')
                or (identifiers.identifier_type = 'device_id' and record_customers.entity = 'devices')
            )
    left join customer_identifiers
        on
            identifiers.identifier_type = 'email'
            and customer_identifiers.identifier_type = 'email'
            and identifiers.identifier_value = customer_identifiers.identifier_value
            and not customer_identifiers.is_excluded

),

members as (

    select
        identifier_type,
        identifier_value,
        customer_key,
        coalesce(customer_key, {{ dbt.concat(["identifier_type", "':'", "identifier_value"]) }}) as journey_key,
        {{ dbt.cast('loaded_at', dbt.type_string()) }} as state,
        loaded_at
    from keyed

    union all

    select
        'order_key' as identifier_type,
        order_key as identifier_value,
        customer_key,
        customer_key as journey_key,
        {{ dbt.concat([
            dbt.cast('ordered_at', dbt.type_string()), "'|'",
            "coalesce(" ~ dbt.cast('conversion_value', dbt.type_string()) ~ ", '')", "'|'",
            "case when is_new_customer then 'new' else 'repeat' end",
        ]) }} as state,
        {{ no_time }} as loaded_at
    from conversions

),

final as (

    select
        coalesce(members.identifier_type, previous.identifier_type) as identifier_type,
        coalesce(members.identifier_value, previous.identifier_value) as identifier_value,
        members.customer_key,
        members.journey_key,
        members.state,
        members.loaded_at,
        previous.journey_key as previous_journey_key,
        {{ dbt.current_timestamp() }} as assigned_at
    from members
    full outer join previous
        on
            members.identifier_type = previous.identifier_type
            and members.identifier_value = previous.identifier_value
    where
        members.journey_key is distinct from previous.journey_key
        or members.state is distinct from previous.state

)

select * from final
