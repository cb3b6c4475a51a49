"""The marketers' dashboard: one self-contained HTML file that works offline from disk."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from mercator.reporting.attribution import AttributionData, collect_attribution, model_comparison_chart
from mercator.reporting.charts import rfm_heatmap, segment_bars
from mercator.reporting.clv import ClvData, clv_histogram, collect_clv, p_alive_chart, tier_bars
from mercator.reporting.metrics import DashboardData, collect

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


def render(
    data: DashboardData,
    data_docs: str | None = None,
    attribution: AttributionData | None = None,
    clv: ClvData | None = None,
) -> str:
    env = Environment(
        loader=PackageLoader("mercator.reporting"), autoescape=select_autoescape(["j2", "html"])
    )
    return env.get_template("dashboard.html.j2").render(
        data=data,
        tiles=_tiles(data),
        bars=segment_bars(data.segments),
        heatmap=rfm_heatmap(data.heatmap),
        data_docs=data_docs,
        attribution=attribution,
        attribution_chart=model_comparison_chart(attribution) if attribution else "",
        clv=clv,
        clv_charts={"histogram": clv_histogram(clv), "p_alive": p_alive_chart(clv), "tiers": tier_bars(clv)}
        if clv
        else {},
    )


def build_dashboard(warehouse_path: Path, reports_dir: Path) -> Path:
    """Write `<reports_dir>/dashboard.html` from the warehouse and the last quality run; returns its path."""
    import duckdb

    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        data = collect(con, reports_dir)
        attribution = collect_attribution(con)
        clv = collect_clv(con)
    docs = DATA_DOCS.as_posix() if (reports_dir / DATA_DOCS).exists() else None
    target = reports_dir / "dashboard.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(render(data, docs, attribution, clv), encoding="utf-8")
    tmp.replace(target)
    return target
