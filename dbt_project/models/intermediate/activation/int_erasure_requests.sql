{#-
    Erasure requests resolved to persons through the identity graph: one row per request and
    customer that one of its identifiers (email, phone, customer_id; normalised in staging) belongs
    to, named by the first of them in that order; one row with a null customer_key when none
    belongs to a customer (unknown or excluded from linking), named by the first identifier given.
-#}
{%- set identifier_types = ['email', 'phone', 'customer_id'] -%}
with

requests as (

    select * from {{ ref('stg_crm__erasure_requests') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

given_identifiers as (

    {% for identifier_type in identifier_types -%}
        select
            requests.request_id,
            requests.requested_at,
            '{{ identifier_type }}' as identifier_type,
            requests.{{ identifier_type }} as identifier_value,
            {{ loop.index }} as identifier_order
        from requests
        where requests.{{ identifier_type }} is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

resolved as (

    select
        given_identifiers.request_id,
        given_identifiers.requested_at,
        customer_identifiers.customer_key,
        given_identifiers.identifier_type,
        given_identifiers.identifier_value,
        row_number() over (
            partition by given_identifiers.request_id, customer_identifiers.customer_key
            order by given_identifiers.identifier_order
        ) as identifier_rank,
        count(customer_identifiers.customer_key) over (
            partition by given_identifiers.request_id
        ) as resolved_identifier_count
    from given_identifiers
    left join customer_identifiers
        on
            given_identifiers.identifier_type = customer_identifiers.identifier_type
            and given_identifiers.identifier_value = customer_identifiers.identifier_value

),

without_identifiers as (

    select
        requests.request_id,
        requests.requested_at,
        cast(null as {{ dbt.type_string() }}) as customer_key,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value
    from requests
    where requests.email is null and requests.phone is null and requests.customer_id is null

),

final as (

    select
        resolved.request_id,
        resolved.requested_at,
        resolved.customer_key,
        resolved.identifier_type,
        resolved.identifier_value
    from resolved
    where
        resolved.identifier_rank = 1
        and (resolved.customer_key is not null or resolved.resolved_identifier_count = 0)

    union all

    select * from without_identifiers

)

select * from final
