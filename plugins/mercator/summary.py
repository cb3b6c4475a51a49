"""`python -m mercator.summary`: a short account of the last run, printed after `make run`.

The run's health (each gate's outcome with its failing checks, the step it stopped at, the sections
not from this run) is what the report step recorded in `<reports>/run_status.json`; the counts and
the CLV models that are not `fitted` come from the warehouse.
"""

from __future__ import annotations

import duckdb

from mercator.config import Settings
from mercator.reporting.clv import model_warnings
from mercator.reporting.dashboard import warning_lines
from mercator.reporting.health import GATE_TITLES, NOT_RUN, PASSED, read_run_status
from mercator.reporting.sections import LAST_GOOD, SECTIONS, WITHHELD

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


def _line(label: str, value: str) -> str:
    return f"  {label + ':':28} {value}"


def health_lines(status: dict | None) -> list[str]:
    """The run's gates, failed steps and sections not from this run, as the report recorded them."""
    if status is None:
        return [_line("run status", "not recorded (the report step did not run)")]
    lines = [_line("run", status.get("run_id") or "outside Airflow")]
    gates = status.get("gates", {})
    for name, gate in ((name, gates[name]) for name in GATE_TITLES if name in gates):
        outcome = "not run in this run" if gate["status"] == NOT_RUN else gate["status"]
        lines.append(_line(GATE_TITLES.get(name, name), outcome))
        for failure in gate["failures"]:
            lines += [f"    {failure['suite']} ({failure['table']}): {c}" for c in failure["critical_failures"]]
    lines += [_line("run stopped at", task) for task in status.get("failed_tasks", [])]
    if status.get("blocked_tasks"):
        lines.append(_line("not run", ", ".join(status["blocked_tasks"])))
    sections = status.get("sections", {})
    for name, section in ((name, sections[name]) for name in SECTIONS if name in sections):
        if section["shown"] == LAST_GOOD:
            shown = f"last good numbers as of {section['as_of']} ({section['reason']})"
        elif section["shown"] == WITHHELD:
            shown = f"withheld ({section['reason']})"
        else:
            continue
        lines.append(_line(f"dashboard {name}", shown))
    if gates.get("marts", {}).get("status") not in (None, PASSED):
        lines.append("  the counts below come from marts that did not pass the mart gate in this run")
    return lines


def count_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """CLV models that are not `fitted`, the main counts and customers per segment."""
    lines = [_line("warning", line) for line in warning_lines(model_warnings(con))]
    lines += [_line(label, _scalar(con, sql)) for label, sql in COUNTS.items()]
    try:
        segments = con.execute(SEGMENTS).fetchall()
    except duckdb.CatalogException:
        segments = []
    if segments:
        lines.append("  segments:")
        lines += [f"    {segment:22} {n:,}" for segment, n in segments]
    return lines


ACTIVATION = """
    select audience, destination, status, coalesce(reason, ''), members, sent, delivered, held_out, capped,
        unconsented, suppressed, invalid, rejected, unknown, removed
    from activation.sync_runs
    where run_id = (select arg_max(run_id, started_at) from activation.sync_runs)
    order by audience, destination
"""


def activation_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Each audience x destination of the latest activation run: status and counts, or why it was skipped."""
    try:
        rows = con.execute(ACTIVATION).fetchall()
    except duckdb.CatalogException:
        return [_line("activation", "no sync recorded yet")]
    lines = ["  activation (latest run):"]
    for audience, destination, status, reason, *counts in rows:
        if status == "skipped":
            lines.append(f"    {audience} -> {destination}: skipped ({reason})")
            continue
        names = ("members", "sent", "delivered", "held out", "capped", "unconsented", "suppressed", "invalid",
                 "rejected", "unknown", "removed")
        detail = ", ".join(f"{n} {v:,}" for n, v in zip(names, counts, strict=True) if v)
        lines.append(f"    {audience} -> {destination}: {status}; {detail or 'no members'}"
                     + (f" ({reason})" if reason else ""))
    return lines


ALERTS = """
    select message from alerts.episodes where status <> 'resolved' order by opened_on, kind, kpi, channel
"""


def alert_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The open alert episodes (KPI and data), each as its message said it (docs/alerts.md)."""
    try:
        messages = [m for (m,) in con.execute(ALERTS).fetchall()]
    except duckdb.CatalogException:
        return [_line("KPI alerts", "none recorded yet")]
    if not messages:
        return [_line("KPI alerts", "no open episode")]
    return ["  KPI alerts (open):", *(f"    {m}" for m in messages)]


def main() -> None:
    settings = Settings.from_env()
    lines = [f"\nMercator run on {settings.landing_dir}", f"  warehouse: {settings.warehouse}"]
    lines += health_lines(read_run_status(settings.reports_dir))
    if settings.warehouse.exists():
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            lines += count_lines(con)
            lines += activation_lines(con)
            lines += alert_lines(con)
    lines.append(f"\nDashboard: {settings.reports_dir / 'dashboard.html'} (open it in a browser, works offline)")
    lines.append(f"Outbox:    {settings.reports_dir / 'outbox'}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
