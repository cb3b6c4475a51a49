{#-
    A shop order status as delivered -> paid | refunded | partially_refunded | cancelled | unknown.
    Missing -> paid; common synonyms map to their status (completed/fulfilled/shipped/delivered ->
    paid, canceled/void/voided -> cancelled, refund/returned -> refunded, partial_refund ->
    partially_refunded); any other value -> unknown (kept, never counted as a purchase).
-#}
{% macro normalize_order_status(column) -%}
    {%- set typed = 'lower(trim(' ~ column ~ '))' -%}
    case
        when {{ typed }} is null or {{ typed }} = '' then 'paid'
        when {{ typed }} in ('paid', 'completed', 'complete', 'fulfilled', 'shipped', 'delivered') then 'paid'
        when {{ typed }} in ('cancelled', 'canceled', 'void', 'voided') then 'cancelled'
        when {{ typed }} in ('refunded', 'refund', 'returned') then 'refunded'
        when {{ typed }} in ('partially_refunded', 'partial_refund', 'partially refunded') then 'partially_refunded'
        else 'unknown'
    end
{%- endmacro %}
