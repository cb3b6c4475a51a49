"""The dashboard's customer value section: numbers computed from the marts, no personal data."""

from __future__ import annotations

import duckdb
from mercator.reporting.dashboard import build_dashboard

CUSTOMERS = [  # key, clv, p_alive, tier, stage, segment, days since last order
    ("k1", 120.0, 0.9, "light", "active", "Champions", 10),
    ("k2", 40.0, 0.5, "moderate", "at_risk", "At risk", 200),
    ("k3", 5.0, 0.2, "severe", "churned", "Lost", 400),
    ("k4", 60.0, 0.8, "light", "new", "New customers", 5),
]


def test_clv_section_shows_tiers_value_at_risk_and_stages(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.customer_clv (customer_key varchar, clv double, p_alive double, "
                    "churn_tier varchar, as_of date)")
        con.execute("create table marts.dim_customers (customer_key varchar, email varchar, clv double, "
                    "lifecycle_stage varchar, last_order_at timestamp)")
        con.execute("create table marts.customer_rfm (customer_key varchar, segment varchar, recency_days integer, "
                    "frequency integer, monetary double, r_score integer, f_score integer, m_score integer, "
                    "fm_score integer, as_of date)")
        for key, clv, p, tier, stage, segment, days in CUSTOMERS:
            con.execute("insert into marts.customer_clv values (?, ?, ?, ?, date '2026-10-31')", [key, clv, p, tier])
            con.execute("insert into marts.dim_customers values (?, ?, ?, ?, date '2026-10-31' - ?::integer)",
                        [key, f"{key}@secret.example", clv, stage, days])
            con.execute("insert into marts.customer_rfm values (?, ?, ?, 1, 10, 3, 1, 1, 1, '2026-10-31')",
                        [key, segment, days])
        con.execute("insert into marts.dim_customers values ('k5', 'p@secret.example', null, 'prospect', null)")
    html = build_dashboard(path, tmp_path / "reports").read_text()
    assert 'id="clv"' in html and "secret.example" not in html
    for tier in ("light", "moderate", "severe"):
        at_risk = sum(clv * (1 - p) / p for _, clv, p, t, *_ in CUSTOMERS if t == tier)
        assert f'data-value-at-risk="{tier}">{at_risk:,.0f}<' in html
        if_active = sum(clv / p for _, clv, p, t, *_ in CUSTOMERS if t == tier)
        assert f'data-share-at-risk="{tier}">{at_risk / if_active:.0%}<' in html
    assert "prospect" in html and "Champions" in html and "<svg" in html
