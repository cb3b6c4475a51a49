"""`python -m mercator.summary`: a short account of the last run, printed after `make run`."""

from __future__ import annotations

import duckdb

from mercator.config import Settings

COUNTS = {
    "customers": "select count(*) from marts.dim_customers",
    "orders": "select count(*) from marts.fct_orders",
    "customers with RFM": "select count(*) from marts.customer_rfm",
    "quarantined rows": "select count(*) from raw.quarantine",
    "audience at risk (email)": "select count(*) from marts.audience_at_risk_email",
    "severe churn risk": "select count(*) from marts.customer_clv where churn_tier = 'severe'",
    "expected CLV, all customers": "select sum(clv) from marts.customer_clv",
    "attributed orders": "select count(distinct order_key) from marts.attribution_credits",
}
SEGMENTS = "select segment, count(*) as n from marts.customer_rfm group by segment order by n desc"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    try:
        value = con.execute(sql).fetchone()[0]
    except duckdb.CatalogException:
        return "n/a (table absent)"
    return "n/a" if value is None else f"{value:,.0f}"


def main() -> None:
    settings = Settings.from_env()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    print(f"\nMercator run on {settings.landing_dir}")
    print(f"  warehouse: {settings.warehouse}")
    for label, sql in COUNTS.items():
        print(f"  {label + ':':28} {_scalar(con, sql)}")
    try:
        segments = con.execute(SEGMENTS).fetchall()
    except duckdb.CatalogException:
        segments = []
    if segments:
        print("  segments:")
        for segment, n in segments:
            print(f"    {segment:22} {n:,}")
    print(f"\nDashboard: {settings.reports_dir / 'dashboard.html'} (open it in a browser, works offline)")
    print(f"Outbox:    {settings.reports_dir / 'outbox'}")
    con.close()


if __name__ == "__main__":
    main()
