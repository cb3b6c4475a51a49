{#-
    Every identifier of an erased customer, remembered across runs. Each run adds the identifiers
    of the customers an erasure request resolves to (int_erasure_requests) and of the customers
    holding an identifier remembered before: a person stays erased when later data links new
    records to them, merges them with another customer or splits their records apart. Rows are
    never changed nor removed; full refreshes are refused.
-#}
{{ config(materialized='incremental', full_refresh=false) }}
{%- set this_run = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
with

erasure_requests as (

    select * from {{ ref('int_erasure_requests') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

previous as (

    {% if is_incremental() %}
        select
            identifier_type,
            identifier_value,
            request_id
        from {{ this }}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as identifier_type,
            cast(null as {{ dbt.type_string() }}) as identifier_value,
            cast(null as {{ dbt.type_string() }}) as request_id
        where 1 = 0
    {% endif %}

),

erasures as (

    select
        erasure_requests.customer_key,
        erasure_requests.request_id
    from erasure_requests
    where erasure_requests.customer_key is not null

    union all

    select
        customer_identifiers.customer_key,
        previous.request_id
    from previous
    inner join customer_identifiers
        on
            previous.identifier_type = customer_identifiers.identifier_type
            and previous.identifier_value = customer_identifiers.identifier_value
    where customer_identifiers.customer_key is not null

),

erased_customers as (

    select
        erasures.customer_key,
        min(erasures.request_id) as request_id
    from erasures
    group by erasures.customer_key

),

final as (

    select
        customer_identifiers.identifier_type,
        customer_identifiers.identifier_value,
        erased_customers.request_id,
        {{ this_run }} as erased_at
    from customer_identifiers
    inner join erased_customers on customer_identifiers.customer_key = erased_customers.customer_key
    left join previous
        on
            customer_identifiers.identifier_type = previous.identifier_type
            and customer_identifiers.identifier_value = previous.identifier_value
    where previous.identifier_value is null

)

select * from final
