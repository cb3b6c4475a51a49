"""Real DuckDB warehouses for the quality gate tests: good data that the tests then break."""

from __future__ import annotations

from pathlib import Path

import duckdb
from mercator.contract import entity, raw_table_ddl

AS_OF = "2026-03-01"

# 500 orders over the 21 days up to AS_OF; every 10th refunded.
GOOD_ORDERS = f"""
    insert into raw.shop__orders
        (order_id, ordered_at, total_amount, currency, status, refunded_amount, _file, _line)
    select 'o' || i, timestamptz '{AS_OF} 00:00:00+00' - to_hours(i), 10 + i % 90, 'USD',
        case when i % 10 = 0 then 'refunded' else 'paid' end, case when i % 10 = 0 then 10 else 0 end,
        'orders.csv', i
    from range(500) as t(i)
"""
GOOD_ITEMS = """
    insert into raw.shop__order_items (order_id, line_number, product_id, quantity, unit_price, _file, _line)
    select 'o' || i, 1, 'p' || (i % 7), 1 + i % 3, 5, 'items.csv', i
    from range(500) as t(i)
"""
GOOD_CONTACTS = """
    insert into raw.crm__contacts
        (contact_id, email, first_name, created_at, updated_at, email_consent, _file, _line)
    select 'c' || i, 'person' || i || '@example.com', 'Name' || i, timestamptz '2025-01-01 00:00:00+00',
        timestamptz '2025-06-01 00:00:00+00', case when i % 3 = 0 then 'granted' else 'unknown' end,
        'contacts.csv', i
    from range(50) as t(i)
"""

# Marts that hold every invariant: 10 customers, 8 scored, 30 orders (3 anonymous), 2 in the audience.
GOOD_MARTS = (
    "create schema if not exists marts",
    """create table marts.dim_customers as
       select 'k' || i as customer_key, 'x' || i || '@example.com' as email, null::varchar as phone,
           null::varchar as first_name, 'US' as country,
           case when i < 5 then 'granted' else 'unknown' end as email_consent,
           'unknown' as sms_consent, 'revoked' as push_consent, 'granted' as ads_consent, false as is_erased,
           timestamptz '2026-01-01 00:00:00+00' as first_order_at,
           timestamptz '2026-02-01 00:00:00+00' as last_order_at, 3 as order_count, 60.0 as net_revenue
       from range(10) as t(i)""",
    """create table marts.fct_orders as
       select 'ok' || i as order_key, 'shop' as order_source, 'o' || i as source_order_id,
           case when i < 27 then 'k' || (i % 10) end as customer_key,
           timestamptz '2026-02-01 00:00:00+00' as ordered_at, 'USD' as currency, 20.0 as gross_amount,
           0.0 as discount_amount, 0.0 as refunded_amount, 20.0 as net_amount, 'paid' as status,
           true as is_countable
       from range(30) as t(i)""",
    """create table marts.customer_rfm as
       select 'k' || i as customer_key, 10 + i as recency_days, 1 + i % 3 as frequency, 20.0 as monetary,
           1 + i % 5 as r_score, 1 + i % 5 as f_score, 1 + i % 5 as m_score, 1 + i % 5 as fm_score,
           'Loyal' as segment, date '2026-03-01' as as_of
       from range(8) as t(i)""",
    """create table marts.audience_at_risk_email as
       select customer_key, email, first_name, 'At risk' as segment, 30 as recency_days, 20.0 as monetary,
           'at_risk_email' as audience
       from marts.dim_customers where customer_key in ('k1', 'k2')""",
)


def make_warehouse(
    path: Path, *statements: str, entities: tuple[str, ...] = ("shop/orders", "shop/order_items", "crm/contacts")
) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        for e in entities:
            con.execute(raw_table_ddl(entity(e)))
        for statement in statements:
            con.execute(statement)
    return path
