{#- Ad spend per week, channel (seed channel_groupings on utm_source/utm_medium) and utm campaign. -#}
with

spend as (

    select * from {{ ref('stg_ads__spend') }}

),

rules as (

    select * from {{ ref('channel_groupings') }}

),

normalised as (

    select
        date as spend_date,
        {{ dbt.date_trunc('week', 'date') }} as week_start,
        platform,
        campaign_id,
        coalesce(lower(utm_source), platform) as source,
        coalesce(lower(utm_medium), '(none)') as medium,
        coalesce(lower(utm_campaign), lower(campaign_name), campaign_id) as campaign,
        impressions,
        clicks,
        spend
    from spend

),

channelled as (

    select
        normalised.*,
        rules.channel,
        row_number() over (
            partition by normalised.spend_date, normalised.platform, normalised.campaign_id
            order by rules.priority
        ) as match_rank
    from normalised
    inner join rules
        on {{ matches_channel_rule('normalised.source', 'normalised.medium') }}

),

final as (

    select
        week_start,
        channel,
        campaign,
        min(platform) as platform,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend
    from channelled
    where match_rank = 1
    group by week_start, channel, campaign

)

select * from final
