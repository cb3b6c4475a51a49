{#-
    Consent per customer and channel: the most recent explicit decision wins (a revocation wins a
    tie); without any decision the consent is unknown.
-#}
with

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

decisions as (

    select * from {{ ref('int_identity_consent_decisions') }}

),

latest_decisions as (

    select
        customer_key,
        channel,
        decision,
        decided_at,
        row_number() over (
            partition by customer_key, channel
            order by decided_at desc, case when decision = 'revoked' then 0 else 1 end
        ) as decision_rank
    from decisions

),

customers as (

    select distinct customer_key from customer_identifiers
    where customer_key is not null

),

final as (

    select
        customers.customer_key,
    {% for channel in ['email', 'sms', 'push', 'ads'] -%}
        coalesce(
            max(case when latest_decisions.channel = '{{ channel }}' then latest_decisions.decision end), 'unknown'
        )
            as {{ channel }}_consent,
        max(case when latest_decisions.channel = '{{ channel }}' then latest_decisions.decided_at end)
            as {{ channel }}_consent_updated_at{{ ',' if not loop.last }}
    {% endfor %}
    from customers
    left join latest_decisions
        on customers.customer_key = latest_decisions.customer_key and latest_decisions.decision_rank = 1
    group by customers.customer_key

)

select * from final
