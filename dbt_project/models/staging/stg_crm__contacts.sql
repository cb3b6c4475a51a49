with

{{ latest_deliveries(source('raw', 'crm__contacts'), ['trim(contact_id)'], version_column='updated_at') }},

final as (

    select
        trim(contact_id) as contact_id,
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
        {{ normalize_consent('email_consent') }} as email_consent,
        {{ normalize_consent('sms_consent') }} as sms_consent,
        {{ normalize_consent('push_consent') }} as push_consent,
        {{ normalize_consent('ads_consent') }} as ads_consent,
        coalesce(consent_updated_at, updated_at) as consent_updated_at,
        _loaded_at as loaded_at
    from ranked
    where delivery_rank = 1

)

select * from final
