{#-
    The channel of every touchpoint: the first rule of the seed channel_groupings that matches its
    source and medium (never null; matched once per distinct pair). Incremental as int_touchpoints:
    the touchpoints of the visitors, devices and addresses it rewrote since the last build.
-#}
{{ config(
    materialized='incremental', unique_key=['identifier_type', 'identifier_value'], incremental_strategy='delete+insert'
) }}
with

touchpoints as (

    select * from {{ ref('int_touchpoints') }}
    where {{ key_has_new_deliveries(
        ref('int_touchpoints'), dbt.concat(['identifier_type', "':'", 'identifier_value'])
    ) }}

),

rules as (

    select * from {{ ref('channel_groupings') }}

),

pairs as (

    select distinct
        source,
        medium
    from touchpoints

),

matches as (

    select
        pairs.source,
        pairs.medium,
        rules.channel,
        row_number() over (partition by pairs.source, pairs.medium order by rules.priority) as match_rank
    from pairs
    inner join rules
        on {{ matches_channel_rule('pairs.source', 'pairs.medium') }}

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
        touchpoints.loaded_at,
        coalesce(matches.channel, 'Other') as channel
    from touchpoints
    left join matches
        on
            touchpoints.source = matches.source
            and touchpoints.medium = matches.medium
            and matches.match_rank = 1

)

select * from final
