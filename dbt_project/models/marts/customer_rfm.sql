{#- RFM scores per customer and the segment that seed rfm_segments assigns to (r_score, fm_score). -#}
with

rfm_scored as (

    select * from {{ ref('int_customer_rfm_scored') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

final as (

    select
        rfm_scored.customer_key,
        rfm_scored.recency_days,
        rfm_scored.frequency,
        rfm_scored.monetary,
        rfm_scored.r_score,
        rfm_scored.f_score,
        rfm_scored.m_score,
        rfm_scored.fm_score,
        rfm_segments.segment,
        rfm_scored.as_of,
        rfm_scored.unpriced_order_count
    from rfm_scored
    left join rfm_segments
        on
            rfm_scored.r_score between rfm_segments.r_score_min and rfm_segments.r_score_max
            and rfm_scored.fm_score between rfm_segments.fm_score_min and rfm_segments.fm_score_max

)

select * from final
