{#- The channel of every touchpoint: the first rule of the seed channel_groupings that matches. -#}
with

touchpoints as (

    select * from {{ ref('int_touchpoints') }}

),

rules as (

    select * from {{ ref('channel_groupings') }}

),

matches as (

    select
        touchpoints.touchpoint_id,
        rules.channel,
        row_number() over (partition by touchpoints.touchpoint_id order by rules.priority) as match_rank
    from touchpoints
    inner join rules
        on {{ matches_channel_rule('touchpoints.source', 'touchpoints.medium') }}

),

final as (

    select
        touchpoints.touchpoint_id,
        touchpoints.touchpoint_type,
        touchpoints.identifier_type,
        touchpoints.identifier_value,
        touchpoints.touched_at,
        touchpoints.source,
        touchpoints.medium,
        touchpoints.campaign,
        touchpoints.has_click_id,
        coalesce(matches.channel, 'Other') as channel
    from touchpoints
    left join matches
        on
            touchpoints.touchpoint_id = matches.touchpoint_id
            and matches.match_rank = 1

)

select * from final
