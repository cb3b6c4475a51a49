{#-
    One row per resolved person: a customer whose identifiers include an email, phone, customer_id,
    contact_id or loyalty_id, or who placed any order (cancelled ones included, so every
    fct_orders.customer_key has a row here). Browsing-only visitors and devices (anonymous_id or
    device_id alone) have a customer key in customer_identities but no row here. CLV, P(alive) and
    churn tier come from the fit_clv task (source ml; null without a purchase), the lifecycle stage
    from int_customer_lifecycle_stages (prospect without a purchase).
-#}
with

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

golden_records as (

    select * from {{ ref('int_identity_golden_records') }}

),

consents as (

    select * from {{ ref('int_identity_consents') }}

),

order_stats as (

    select * from {{ ref('int_customer_order_stats') }}

),

orders as (

    select * from {{ ref('int_orders_netted') }}

),

clv_scores as (

    select * from {{ source('ml', 'customer_clv_scores') }}

),

lifecycle_stages as (

    select * from {{ ref('int_customer_lifecycle_stages') }}

),

identified as (

    select distinct customer_key from customer_identifiers
    where
        customer_key is not null
        and identifier_type in ('email', 'phone', 'customer_id', 'contact_id', 'loyalty_id')
    union
    select customer_key from orders
    where customer_key is not null

),

final as (

    select
        golden_records.customer_key,
        golden_records.email,
        golden_records.phone,
        golden_records.first_name,
        golden_records.last_name,
        golden_records.country,
        golden_records.city,
        golden_records.birth_date,
        consents.email_consent,
        consents.sms_consent,
        consents.push_consent,
        consents.email_consent_updated_at,
        consents.sms_consent_updated_at,
        consents.push_consent_updated_at,
        order_stats.first_order_at,
        order_stats.last_order_at,
        clv_scores.clv,
        clv_scores.clv_lower,
        clv_scores.clv_upper,
        clv_scores.p_alive,
        clv_scores.churn_tier,
        coalesce(order_stats.order_count, 0) as order_count,
        coalesce(order_stats.net_revenue, 0) as net_revenue,
        coalesce(lifecycle_stages.lifecycle_stage, 'prospect') as lifecycle_stage
    from golden_records
    inner join consents on golden_records.customer_key = consents.customer_key
    left join order_stats on golden_records.customer_key = order_stats.customer_key
    left join clv_scores on golden_records.customer_key = clv_scores.customer_key
    left join lifecycle_stages on golden_records.customer_key = lifecycle_stages.customer_key
    where
        golden_records.customer_key in (select identified.customer_key from identified)

)

select * from final
