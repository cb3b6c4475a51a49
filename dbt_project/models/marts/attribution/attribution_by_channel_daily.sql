with

credits as (

    select * from {{ ref('attribution_credits') }}

),

final as (

    select
        model,
        channel,
        conversion_date,
        sum(credit) as conversions,
        sum(revenue) as revenue,
        sum(case when is_new_customer then credit else 0 end) as new_customer_conversions
    from credits
    group by model, channel, conversion_date

)

select * from final
