with

source as (

    select * from {{ source('raw', 'crm__contacts') }}

),

ranked as (

    select
        *,
        {{ latest_delivery_rank(['contact_id']) }} as delivery_rank
    from source

),

final as (

    select
        contact_id,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(upper(trim(country)), '') as country,
        nullif(trim(city), '') as city,
        birth_date,
        {{ clean_identifier('loyalty_id') }} as loyalty_id,
        {{ clean_identifier('customer_id') }} as customer_id,
        created_at,
        updated_at,
        coalesce(lower(email_consent), 'unknown') as email_consent,
        coalesce(lower(sms_consent), 'unknown') as sms_consent,
        coalesce(lower(push_consent), 'unknown') as push_consent,
        coalesce(consent_updated_at, updated_at) as consent_updated_at,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
