with

{{ latest_deliveries(source('raw', 'shop__order_items'), ['trim(order_id)', 'line_number']) }},

final as (

    select
        line_number,
        product_id,
        product_name,
        category,
        quantity,
        unit_price,
        _loaded_at as loaded_at,
        trim(order_id) as order_id,
        quantity * unit_price as line_amount
    from ranked
    where delivery_rank = 1

)

select * from final
