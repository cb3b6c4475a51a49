{#-
    RFM values and scores 1-5 per customer with countable orders up to the as-of date.
    R and M: score = least(5, 1 + floor(5 * p)), p = (rank - 1) / (customers - 1): percent_rank()
    computed exactly (0 for a single customer). Equal values share a rank and so a score. M ranks
    ascending; R ranks recency_days descending, so the most recent buyers score 5.
    F: the bin of seed rfm_frequency_bins that holds the frequency (quintiles of a count where most
    customers buy once would leave F2 and F3 empty). fm_score = round half up of (f_score + m_score) / 2.
    monetary sums orders priced in the reporting currency (0 when none is); unpriced_order_count
    counts the orders left out for want of an exchange rate (they still count in frequency).
-#}
with

countable_orders as (

    select * from {{ ref('int_orders_countable') }}

),

frequency_bins as (

    select * from {{ ref('rfm_frequency_bins') }}

),

customer_values as (

    select
        countable_orders.customer_key,
        countable_orders.as_of,
        {{ dbt.datediff('max(countable_orders.order_date)', 'countable_orders.as_of', 'day') }}
            as recency_days,
        count(*) as frequency,
        coalesce(sum(countable_orders.net_amount), 0) as monetary,
        count(*) - count(countable_orders.net_amount) as unpriced_order_count
    from countable_orders
    group by countable_orders.customer_key, countable_orders.as_of

),

ranked as (

    select
        customer_values.*,
        count(*) over () as customers,
        rank() over (order by customer_values.recency_days desc) as r_rank,
        rank() over (order by customer_values.monetary) as m_rank
    from customer_values

),

scored as (

    {%- set score -%}
        cast(least(5, 1 + floor(5.0 * (RANK - 1) / greatest(ranked.customers - 1, 1))) as integer)
    {%- endset %}
    select
        ranked.*,
        {{ score | replace('RANK', 'ranked.r_rank') }} as r_score,
        frequency_bins.f_score,
        {{ score | replace('RANK', 'ranked.m_rank') }} as m_score
    from ranked
    left join frequency_bins
        on
            ranked.frequency >= frequency_bins.frequency_min
            and (frequency_bins.frequency_max is null or ranked.frequency <= frequency_bins.frequency_max)

),

final as (

    select
        scored.customer_key,
        scored.recency_days,
        scored.frequency,
        scored.monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        cast(floor((scored.f_score + scored.m_score + 1) / 2.0) as integer) as fm_score,
        scored.as_of,
        scored.unpriced_order_count
    from scored

)

select * from final
