{#-
    Every contact that must not be messaged, per channel, for the sync engine: email addresses of
    int_email_suppressions, phones of int_sms_suppressions, and the emails and phones of the seed
    identity_deny_list (placeholders and shared numbers, never a person's own). One row per channel
    and identifier; when several apply, the latest one is kept (a deny-list entry, undated, last).
-#}
with

email_suppressions as (

    select * from {{ ref('int_email_suppressions') }}

),

sms_suppressions as (

    select * from {{ ref('int_sms_suppressions') }}

),

deny_list as (

    select * from {{ ref('identity_deny_list') }}

),

denied_identifiers as (

    select
        case lower(trim(deny_list.identifier_type)) when 'email' then 'email' when 'phone' then 'sms' end
            as channel,
        case lower(trim(deny_list.identifier_type))
            when 'email' then lower(trim(deny_list.identifier_value))
            when 'phone' then {{ normalize_phone('deny_list.identifier_value') }}
        end as identifier_value,
        'deny_list' as suppression_source,
        deny_list.reason,
        cast(null as {{ dbt.type_timestamp() }}) as suppressed_at
    from deny_list

),

suppressions as (

    select
        'email' as channel,
        email_suppressions.email as identifier_value,
        email_suppressions.suppression_source,
        email_suppressions.reason,
        email_suppressions.suppressed_at
    from email_suppressions

    union all

    select
        'sms' as channel,
        sms_suppressions.phone as identifier_value,
        sms_suppressions.suppression_source,
        sms_suppressions.reason,
        sms_suppressions.suppressed_at
    from sms_suppressions

    union all

    select * from denied_identifiers
    where denied_identifiers.channel is not null and denied_identifiers.identifier_value is not null

),

latest_first as (

    select
        suppressions.*,
        row_number() over (
            partition by suppressions.channel, suppressions.identifier_value
            order by
                case when suppressions.suppressed_at is null then 1 else 0 end,
                suppressions.suppressed_at desc,
                suppressions.suppression_source asc,
                suppressions.reason asc
        ) as recency_rank
    from suppressions

),

final as (

    select
        latest_first.channel,
        latest_first.identifier_value,
        latest_first.suppression_source,
        latest_first.reason,
        latest_first.suppressed_at
    from latest_first
    where latest_first.recency_rank = 1

)

select * from final
