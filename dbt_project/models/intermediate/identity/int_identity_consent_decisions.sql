{#-
    Every explicit consent decision, per customer and channel (email, sms, push, ads). CRM consents
    granted/revoked (unknown is no decision) at consent_updated_at; email unsubscribes, group
    unsubscribes and spam reports revoke email, group resubscribes grant it; inbound SMS STOP-words
    revoke sms, START-words grant it.
-#}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity_customer_identifiers') }}

),

crm_decisions as (

    {% for channel in ['email', 'sms', 'push', 'ads'] -%}
        select
            record_customers.customer_key,
            '{{ channel }}' as channel,
            contacts.{{ channel }}_consent as decision,
            contacts.consent_updated_at as decided_at,
            'crm' as source
        from contacts
        inner join
            record_customers
            on record_customers.source = 'crm' and contacts.contact_id = record_customers.record_id
        where contacts.{{ channel }}_consent in ('granted', 'revoked') and record_customers.customer_key is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

email_decisions as (

    select
        customer_identifiers.customer_key,
        'email' as channel,
        case when email_events.event = 'group_resubscribe' then 'granted' else 'revoked' end as decision,
        email_events.occurred_at as decided_at,
        'email' as source
    from email_events
    inner join customer_identifiers
        on customer_identifiers.identifier_type = 'email' and email_events.email = customer_identifiers.identifier_value
    where
        email_events.event in ('unsubscribe', 'group_unsubscribe', 'spamreport', 'group_resubscribe')
        and customer_identifiers.customer_key is not null

),

sms_decisions as (

    select
        customer_identifiers.customer_key,
        'sms' as channel,
        case
            when upper(sms_events.body) in ('START', 'YES', 'UNSTOP') then 'granted' else 'revoked'
        end as decision,
        sms_events.occurred_at as decided_at,
        'sms' as source
    from sms_events
    inner join customer_identifiers
        on
            customer_identifiers.identifier_type = 'phone'
            and sms_events.from_phone = customer_identifiers.identifier_value
    where
        sms_events.message_status = 'received'
        and upper(sms_events.body) in (
            'STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'START', 'YES', 'UNSTOP'
        )
        and customer_identifiers.customer_key is not null

),

final as (

    select * from crm_decisions
    union all
    select * from email_decisions
    union all
    select * from sms_decisions

)

select * from final
