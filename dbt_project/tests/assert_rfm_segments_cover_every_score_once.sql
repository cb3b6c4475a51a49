{#- Every (r_score, fm_score) pair from 1 to 5 must fall in exactly one rfm_segments row. -#}
with

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

scores as (

    select 1 as score
    union all
    select 2 as score
    union all
    select 3 as score
    union all
    select 4 as score
    union all
    select 5 as score

),

score_pairs as (

    select
        r_scores.score as r_score,
        fm_scores.score as fm_score
    from scores as r_scores
    cross join scores as fm_scores

),

matches as (

    select
        score_pairs.r_score,
        score_pairs.fm_score,
        count(rfm_segments.segment) as segment_count
    from score_pairs
    left join rfm_segments
        on
            score_pairs.r_score between rfm_segments.r_score_min and rfm_segments.r_score_max
            and score_pairs.fm_score between rfm_segments.fm_score_min and rfm_segments.fm_score_max
    group by score_pairs.r_score, score_pairs.fm_score

)

select * from matches
where segment_count != 1
