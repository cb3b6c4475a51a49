{#-
    The rfm_frequency_bins rows, ordered by frequency_min, must start at 1, each start one above the
    previous bin's frequency_max, leave only the top bin open (frequency_max empty) and give F scores 1-5.
-#}
with

bins as (

    select * from {{ ref('rfm_frequency_bins') }}

),

ordered as (

    select
        f_score,
        frequency_min,
        frequency_max,
        lag(frequency_max) over (order by frequency_min) as previous_max,
        row_number() over (order by frequency_min desc) as from_top
    from bins

),

problems as (

    select
        f_score,
        'gap or overlap before this bin' as problem
    from ordered
    where coalesce(previous_max, 0) + 1 != frequency_min
    union all
    select
        f_score,
        'only the top bin may be open' as problem
    from ordered
    where (frequency_max is null) != (from_top = 1)
    union all
    select
        f_score,
        'frequency_max below frequency_min' as problem
    from ordered
    where frequency_max < frequency_min
    union all
    select
        f_score,
        'f_score outside 1-5' as problem
    from ordered
    where f_score not between 1 and 5

)

select * from problems
