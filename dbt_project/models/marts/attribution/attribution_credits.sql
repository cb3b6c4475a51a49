{#-
    Credits are exact decimals: sums over them (by channel, day, campaign) do not depend on the
    order in which a parallel engine adds them, so reruns give identical marts.
-#}
with

rule_credits as (

    select
        order_key,
        touchpoint_id,
        model,
        channel,
        campaign,
        credit,
        revenue
    from {{ ref('int_attribution_rule_credits') }}

),

data_driven_credits as (

    select * from {{ ref('int_attribution_data_driven_credits') }}

),

conversions as (

    select * from {{ ref('int_attribution_conversions') }}

),

credits as (

    select * from rule_credits
    union all
    select * from data_driven_credits

),

final as (

    select
        credits.order_key,
        credits.touchpoint_id,
        credits.model,
        credits.channel,
        credits.campaign,
        conversions.customer_key,
        conversions.ordered_at as converted_at,
        cast(conversions.ordered_at as date) as conversion_date,
        conversions.is_new_customer,
        cast(credits.credit as decimal(38, 18)) as credit,
        cast(credits.revenue as decimal(38, 12)) as revenue
    from credits
    inner join conversions
        on credits.order_key = conversions.order_key

)

select * from final
