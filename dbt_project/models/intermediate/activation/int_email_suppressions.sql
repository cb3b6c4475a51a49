{#-
    Email addresses that must not be emailed: bounces, drops and spam reports (permanent),
    unsubscribes without a later group_resubscribe, and the manual seed email_suppressions.
    When several apply, the latest one is kept.
-#}
with

email_events as (

    select * from {{ ref('stg_email__events') }}

),

manual_suppressions as (

    select * from {{ ref('email_suppressions') }}

),

resubscriptions as (

    select
        email_events.email,
        max(email_events.occurred_at) as last_resubscribed_at
    from email_events
    where email_events.event = 'group_resubscribe'
    group by email_events.email

),

event_suppressions as (

    select
        email_events.email,
        'email_events' as suppression_source,
        email_events.event as reason,
        email_events.occurred_at as suppressed_at
    from email_events
    left join resubscriptions
        on email_events.email = resubscriptions.email
    where
        email_events.event in ('bounce', 'dropped', 'spamreport')
        or (
            email_events.event in ('unsubscribe', 'group_unsubscribe')
            and (
                resubscriptions.last_resubscribed_at is null
                or email_events.occurred_at >= resubscriptions.last_resubscribed_at
            )
        )

),

seed_suppressions as (

    select
        lower(trim(manual_suppressions.email)) as email,
        'manual' as suppression_source,
        manual_suppressions.reason,
        cast(manual_suppressions.added_at as {{ dbt.type_timestamp() }}) as suppressed_at
    from manual_suppressions

),

suppressions as (

    select * from event_suppressions
    union all
    select * from seed_suppressions

),

latest_first as (

    select
        suppressions.*,
        row_number() over (
            partition by suppressions.email
            order by
                suppressions.suppressed_at desc,
                suppressions.suppression_source asc,
                suppressions.reason asc
        ) as recency_rank
    from suppressions
    where suppressions.email is not null

),

final as (

    select
        latest_first.email,
        latest_first.suppression_source,
        latest_first.reason,
        latest_first.suppressed_at
    from latest_first
    where latest_first.recency_rank = 1

)

select * from final
