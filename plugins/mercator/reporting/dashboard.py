"""The marketers' dashboard: one self-contained HTML file that works offline from disk.

At the top, this run's health (gates, failed steps, warnings); then one slot per section
(`sections.py`): this run's numbers, or the last good copy labelled with its as-of date, or a notice.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from mercator.reporting.attribution import AttributionData, collect_attribution, model_comparison_chart
from mercator.reporting.campaigns import Campaign, collect_campaigns, lift_chart
from mercator.reporting.charts import rfm_heatmap, segment_bars
from mercator.reporting.clv import ClvData, clv_histogram, collect_clv, model_warnings, p_alive_chart, tier_bars
from mercator.reporting.health import GATE_TASKS, run_health, write_run_status
from mercator.reporting.metrics import DashboardData, collect
from mercator.reporting.sections import SECTIONS, arrange, save_last_good

DATA_DOCS = Path("quality") / "data_docs" / "index.html"


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
        ("Repeat rate", _fmt(data.repeat_rate, "{:.1%}")),
        ("Quarantined rows", _fmt(data.quarantined_rows, "{:,}")),
        ("As of", data.as_of or "–"),
    ]


def _environment() -> Environment:
    return Environment(loader=PackageLoader("mercator.reporting"), autoescape=select_autoescape(["j2", "html"]))


def render_sections(
    env: Environment,
    data: DashboardData,
    attribution: AttributionData | None = None,
    clv: ClvData | None = None,
    clv_models: list[dict] | None = None,
    campaigns: list[Campaign] | None = None,
) -> dict[str, Markup]:
    """Each section's HTML fragment from this run's numbers, in page order."""
    context = {
        "data": data,
        "tiles": _tiles(data),
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
    health = run_health(reports_dir / "quality", run_id, task_states)
    marts_gate = health.gates.get("marts")
    env = _environment()
    slots = arrange(render_sections(env, data, attribution, clv, clv_models, campaigns), marts_gate, reports_dir)
    warnings = warning_lines(clv_models)
    docs = DATA_DOCS.as_posix() if (reports_dir / DATA_DOCS).exists() else None
    target = reports_dir / "dashboard.html"
    tmp = target.with_suffix(".html.tmp")
    html = env.get_template("dashboard.html.j2").render(
        data=data, slots=slots, health=health, gate_tasks=GATE_TASKS, warnings=warnings, data_docs=docs
    )
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    save_last_good(reports_dir, slots, marts_gate, data.as_of, run_id)
    shown = {s.name: {"shown": s.shown, "reason": s.reason, "as_of": s.as_of, "run_id": s.run_id} for s in slots}
    write_run_status(reports_dir, health, shown, warnings)
    return target
