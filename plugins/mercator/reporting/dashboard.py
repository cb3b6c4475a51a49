"""The marketers' dashboard: one self-contained HTML file that works offline from disk.

At the top, this run's health (gates, failed steps, warnings) and the open KPI alerts; then one slot
per section (`sections.py`): this run's numbers, or the last good copy labelled with its as-of date, or
a notice. What each number means: docs/dashboard.md.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from mercator.reporting.alerts import collect_alerts
from mercator.reporting.attribution import AttributionData, collect_attribution, model_comparison_chart
from mercator.reporting.campaigns import SYNC_COUNTS, Campaign, collect_campaigns, collect_syncs, lift_chart
from mercator.reporting.charts import BAR, rfm_heatmap, segment_bars, week_bars
from mercator.reporting.clv import ClvData, clv_histogram, collect_clv, model_warnings, p_alive_chart, tier_bars
from mercator.reporting.cohorts import Cohort, collect_cohorts
from mercator.reporting.health import GATE_TASKS, run_health, write_run_status
from mercator.reporting.kpis import Trends, collect_trends
from mercator.reporting.metrics import DashboardData, collect
from mercator.reporting.migration import Migration, collect_migration
from mercator.reporting.sections import SECTIONS, arrange, save_last_good
from mercator.reporting.tiles import tiles

DATA_DOCS = Path("quality") / "data_docs" / "index.html"
NEW, RETURNING = "#d08c2f", BAR


def _fmt(value, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def _tiles(data: DashboardData) -> list[tuple[str, str]]:
    revenue = _fmt(data.net_revenue, "{:,.0f}") + (
        f" {data.currency}" if data.currency and data.net_revenue else ""
    )
    return [
        ("Customers", _fmt(data.customers, "{:,}")),
        ("Orders", _fmt(data.orders, "{:,}")),
        ("Net revenue", revenue),
        ("Quarantined rows", _fmt(data.quarantined_rows, "{:,}")),
        ("As of", data.as_of or "–"),
    ]


def _week_charts(trends: Trends | None, currency: str) -> dict[str, Markup]:
    if not trends:
        return {}
    weeks = [w.last_day.isoformat() for w in trends.weeks]
    money = f"{currency} revenue" if currency else "net revenue"
    return {
        "revenue": week_bars(weeks, [(money, BAR, [w.revenue for w in trends.weeks])], "Net revenue by week"),
        "orders": week_bars(weeks, [("orders", BAR, [w.orders for w in trends.weeks])], "Orders by week"),
        "customers": week_bars(weeks, [("new", NEW, [w.new_customers for w in trends.weeks]),
                                       ("returning", RETURNING, [w.returning_buyers for w in trends.weeks])],
                               "New and returning customers by week"),
    }


def _environment() -> Environment:
    return Environment(loader=PackageLoader("mercator.reporting"), autoescape=select_autoescape(["j2", "html"]))


def render_sections(
    env: Environment,
    data: DashboardData,
    attribution: AttributionData | None = None,
    clv: ClvData | None = None,
    clv_models: list[dict] | None = None,
    campaigns: list[Campaign] | None = None,
    trends: Trends | None = None,
    cohorts: list[Cohort] | None = None,
    migration: Migration | None = None,
    syncs: list[dict] | None = None,
) -> dict[str, Markup]:
    """Each section's HTML fragment from this run's numbers, in page order."""
    context = {
        "data": data,
        "tiles": _tiles(data),
        "trends": trends,
        "kpi_tiles": tiles(trends, data.currency) if trends else [],
        "week_charts": _week_charts(trends, data.currency),
        "cohorts": cohorts or [],
        "migration": migration,
        "syncs": syncs or [],
        "sync_counts": SYNC_COUNTS,
        "bars": segment_bars(data.segments),
        "heatmap": rfm_heatmap(data.heatmap),
        "attribution": attribution,
        "attribution_chart": model_comparison_chart(attribution) if attribution else "",
        "clv": clv,
        "clv_charts": {"histogram": clv_histogram(clv), "p_alive": p_alive_chart(clv), "tiers": tier_bars(clv)}
        if clv
        else {},
        "clv_models": clv_models or [],
        "campaigns": campaigns or [],
        "lift_chart": lift_chart,
    }
    return {name: Markup(env.get_template(f"_{name}.html.j2").render(**context)) for name in SECTIONS}


def warning_lines(clv_models: list[dict]) -> list[str]:
    """One sentence per CLV model that is not `fitted`, for the top of the page and the run summary."""
    lines = []
    for m in clv_models:
        line = f"CLV model {m['model']} is {m['status']}"
        line += f" (as of {m['as_of']})" if m.get("as_of") else ""
        line += f", fallback {m['fallback']}" if m.get("fallback") else ""
        lines.append(line + (f": {m['reason']}" if m.get("reason") else ""))
    return lines


def build_dashboard(
    warehouse_path: Path,
    reports_dir: Path,
    run_id: str | None = None,
    task_states: dict[str, str] | None = None,
) -> Path:
    """Write `<reports_dir>/dashboard.html` for run `run_id` (None: outside Airflow, the last recorded
    gates count) from the warehouse, the gates' records and the run's task states; returns its path.
    After a run that passed the mart gate, its sections become the last good copies."""
    import duckdb

    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    exists = Path(warehouse_path).exists()  # not when the run failed before creating it
    with duckdb.connect(str(warehouse_path) if exists else ":memory:", read_only=exists) as con:
        data = collect(con, reports_dir)
        attribution = collect_attribution(con)
        clv = collect_clv(con)
        clv_models = model_warnings(con)
        campaigns = collect_campaigns(con)
        trends = collect_trends(con, data.as_of)
        cohorts = collect_cohorts(con, data.as_of)
        migration = collect_migration(con, data.as_of)
        syncs = collect_syncs(con)
        alerts = collect_alerts(con)
    health = run_health(reports_dir / "quality", run_id, task_states)
    marts_gate = health.gates.get("marts")
    env = _environment()
    fragments = render_sections(env, data, attribution, clv, clv_models, campaigns, trends, cohorts, migration, syncs)
    slots = arrange(fragments, marts_gate, reports_dir)
    warnings = warning_lines(clv_models)
    docs = DATA_DOCS.as_posix() if (reports_dir / DATA_DOCS).exists() else None
    target = reports_dir / "dashboard.html"
    tmp = target.with_suffix(".html.tmp")
    html = env.get_template("dashboard.html.j2").render(
        data=data, slots=slots, health=health, gate_tasks=GATE_TASKS, warnings=warnings, data_docs=docs,
        alerts=alerts,
    )
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    save_last_good(reports_dir, slots, marts_gate, data.as_of, run_id)
    shown = {s.name: {"shown": s.shown, "reason": s.reason, "as_of": s.as_of, "run_id": s.run_id} for s in slots}
    write_run_status(reports_dir, health, shown, warnings)
    return target
