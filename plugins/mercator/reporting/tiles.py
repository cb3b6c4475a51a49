"""KPI tiles: the value over the last 28 days, its change against the 28 days before, a weekly sparkline.

Shares change in percentage points, everything else relatively. A change is good when it goes the
KPI's way: up, except for costs (CAC), where down is good.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from mercator.reporting.kpis import KPIS, SPARK_WEEKS, Kpi, Trends, kpi_value


def format_value(kpi: Kpi, value, currency: str = "") -> str:
    """The value as the tile shows it: money to the cent, shares to 0.1%, ROAS to 0.01."""
    if value is None:
        return "–"
    if kpi.kind == "money":
        return f"{value:,.2f}" + (f" {currency}" if currency else "")
    if kpi.kind == "count":
        return f"{value:,}"
    if kpi.kind == "share":
        return f"{value:.1%}"
    return f"{value:,.2f}×"


def change(kpi: Kpi, current, previous) -> tuple[float | None, str]:
    """(signed change, its text): points for shares, relative otherwise; None when undefined."""
    if current is None or previous is None:
        return None, "–"
    if kpi.kind == "share":
        delta = float(current - previous)
        return delta, f"{delta * 100:+.1f} pp"
    if not previous:
        return None, "–"
    delta = float(current) / float(previous) - 1
    return delta, f"{delta:+.1%}"


@dataclass
class Tile:
    kpi: Kpi
    value: str
    previous: str
    change: str
    trend: str  # up | down | flat | none
    verdict: str  # good | bad | neutral
    sparkline: Markup


def tiles(trends: Trends, currency: str = "") -> list[Tile]:
    """One tile per KPI, in the order of KPIS."""
    found = []
    weeks = trends.weeks[-SPARK_WEEKS:]
    for kpi in KPIS:
        current, previous = kpi_value(trends.current, kpi.name), kpi_value(trends.previous, kpi.name)
        delta, text = change(kpi, current, previous)
        trend = "none" if delta is None else "up" if delta > 0 else "down" if delta < 0 else "flat"
        verdict = "neutral" if trend in ("none", "flat") else (
            "good" if (trend == "up") != kpi.lower_is_better else "bad")
        points = [(w.last_day.isoformat(), kpi_value(w, kpi.name)) for w in weeks]
        found.append(Tile(kpi, format_value(kpi, current, currency), format_value(kpi, previous, currency), text,
                          trend, verdict, sparkline(kpi, points, currency)))
    return found


def sparkline(kpi: Kpi, points: list[tuple[str, object]], currency: str = "", width: int = 150,
              height: int = 34) -> Markup:
    """The weekly values as a line, each week a dot whose tooltip gives the week and its value."""
    known = [(i, float(v)) for i, (_, v) in enumerate(points) if v is not None]
    pad = 3
    low, high = min((v for _, v in known), default=0.0), max((v for _, v in known), default=0.0)
    span = (high - low) or 1.0

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * i / max(len(points) - 1, 1)
        return x, height - pad - (height - 2 * pad) * (v - low) / span

    line = " ".join("{:.1f},{:.1f}".format(*xy(i, v)) for i, v in known)
    parts = [f'<svg class="chart spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(kpi.label)}, weekly">'
             f'<polyline points="{line}" fill="none" stroke="#3b6ea5" stroke-width="1.5"/>']
    for i, v in known:
        x, y = xy(i, v)
        label = f"week to {points[i][0]}: {format_value(kpi, points[i][1], currency)}"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#3b6ea5">'
                     f"<title>{escape(label)}</title></circle>")
    parts.append("</svg>")
    return Markup("".join(parts))
