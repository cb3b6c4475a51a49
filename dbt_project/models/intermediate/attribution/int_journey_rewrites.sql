{#-
    The journeys that an incremental run of the touchpoint and attribution models rewrites: those
    int_journey_members left and joined in its latest run (a visitor that signs in moves from its own
    customer key, absorbed, to the customer's: both are rewritten, the first to nothing).
-#}
with

members as (

    select * from {{ ref('int_journey_members') }}
    where assigned_at = (select max(assigned_at) from {{ ref('int_journey_members') }})

),

final as (

    select journey_key from members where journey_key is not null
    union
    select previous_journey_key as journey_key from members where previous_journey_key is not null

)

select * from final
