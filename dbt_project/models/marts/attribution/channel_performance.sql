with

credits as (

    select * from {{ ref('attribution_credits') }}

),

spend as (

    select * from {{ ref('int_ad_spend_weekly') }}

),

attributed as (

    select
        model,
        {{ dbt.date_trunc('week', 'conversion_date') }} as week_start,
        channel,
        coalesce(campaign, '(none)') as campaign,
        sum(credit) as conversions,
        sum(revenue) as revenue,
        sum(case when is_new_customer then credit else 0 end) as new_customers
    from credits
    group by model, {{ dbt.date_trunc('week', 'conversion_date') }}, channel, coalesce(campaign, '(none)')

),

models as (

    select distinct model from credits

),

spend_per_model as (

    select
        spend.*,
        models.model
    from spend
    cross join models

),

joined as (

    select
        spend_per_model.platform,
        coalesce(attributed.model, spend_per_model.model) as model,
        coalesce(attributed.week_start, spend_per_model.week_start) as week_start,
        coalesce(attributed.channel, spend_per_model.channel) as channel,
        coalesce(attributed.campaign, spend_per_model.campaign) as campaign,
        coalesce(spend_per_model.impressions, 0) as impressions,
        coalesce(spend_per_model.clicks, 0) as clicks,
        coalesce(spend_per_model.spend, 0) as spend,
        coalesce(attributed.conversions, 0) as conversions,
        coalesce(attributed.revenue, 0) as revenue,
        coalesce(attributed.new_customers, 0) as new_customers
    from attributed
    full outer join spend_per_model
        on
            attributed.model = spend_per_model.model
            and attributed.week_start = spend_per_model.week_start
            and attributed.channel = spend_per_model.channel
            and attributed.campaign = spend_per_model.campaign

),

final as (

    select
        *,
        {#- Doubles divided: Spark's decimal division rounds to 6 decimal places. #}
        cast(revenue as double) / nullif(spend, 0) as roas,
        cast(spend as double) / nullif(conversions, 0) as cpa,
        cast(spend as double) / nullif(new_customers, 0) as cac
    from joined

)

select * from final
