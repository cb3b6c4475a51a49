-- stg_web__events as a DuckDB user would write it: QUALIFY keeps each event_id's latest delivery.
select
    event_id,
    case when lower(anonymous_trimmed) in ('', 'null', 'none', 'nil', 'n/a', 'na', '-', 'undefined', 'unknown') then null
        else anonymous_trimmed end as anonymous_id,
    case when lower(user_trimmed) in ('', 'null', 'none', 'nil', 'n/a', 'na', '-', 'undefined', 'unknown') then null
        else user_trimmed end as user_id,
    case when regexp_full_match(email_trimmed, '[^@\s]+@[^@\s.]+(\.[^@\s.]+)+') then email_trimmed end as email,
    event_name, occurred_at, page_url, referrer, utm_source, utm_medium, utm_campaign, utm_content, utm_term,
    click_id, device_type, order_id, product_id, revenue, _loaded_at as loaded_at
from (
    select
        *,
        regexp_replace(anonymous_id, '^\s+|\s+$', '', 'g') as anonymous_trimmed,
        regexp_replace(user_id, '^\s+|\s+$', '', 'g') as user_trimmed,
        lower(regexp_replace(email, '^\s+|\s+$', '', 'g')) as email_trimmed
    from raw.web__events
    qualify row_number() over (partition by event_id order by _loaded_at desc, _file desc, _line desc) = 1
)
