{#-
    Phones (E.164) that must not get SMS: the sender of an inbound message whose whole body
    (trimmed, any case) is an opt-out keyword, and the recipient of any message that failed with
    Twilio error 21610 (recipient unsubscribed); either one lifted by a later inbound opt-in keyword
    from that phone, as Twilio lifts its own block. When several apply, the latest one is kept.
    The keywords are Twilio's, as in int_identity_consent_decisions.
-#}
with

sms_events as (

    select * from {{ ref('stg_sms__events') }}

),

inbound_keywords as (

    select
        sms_events.from_phone as phone,
        sms_events.occurred_at,
        upper(trim(sms_events.body)) as keyword
    from sms_events
    where sms_events.message_status = 'received'

),

opt_ins as (

    select
        inbound_keywords.phone,
        max(inbound_keywords.occurred_at) as last_opted_in_at
    from inbound_keywords
    where inbound_keywords.keyword in ('START', 'YES', 'UNSTOP')
    group by inbound_keywords.phone

),

opt_outs as (

    select
        inbound_keywords.phone,
        'opt_out_keyword' as reason,
        inbound_keywords.occurred_at as suppressed_at
    from inbound_keywords
    where inbound_keywords.keyword in ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT')

),

unsubscribed_errors as (

    select
        sms_events.to_phone as phone,
        'error_21610' as reason,
        sms_events.occurred_at as suppressed_at
    from sms_events
    where trim(sms_events.error_code) = '21610'

),

suppressions as (

    select * from opt_outs
    union all
    select * from unsubscribed_errors

),

standing as (

    select
        suppressions.phone,
        'sms_events' as suppression_source,
        suppressions.reason,
        suppressions.suppressed_at
    from suppressions
    left join opt_ins on suppressions.phone = opt_ins.phone
    where
        suppressions.phone is not null
        and (opt_ins.last_opted_in_at is null or suppressions.suppressed_at >= opt_ins.last_opted_in_at)

),

latest_first as (

    select
        standing.*,
        row_number() over (
            partition by standing.phone
            order by standing.suppressed_at desc, standing.reason asc
        ) as recency_rank
    from standing

),

final as (

    select
        latest_first.phone,
        latest_first.suppression_source,
        latest_first.reason,
        latest_first.suppressed_at
    from latest_first
    where latest_first.recency_rank = 1

)

select * from final
