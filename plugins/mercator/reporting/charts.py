"""Inline SVG charts drawn from numbers: no JavaScript, no external asset."""

from __future__ import annotations

from markupsafe import Markup, escape

from mercator.reporting.metrics import SCORES, Segment

BAR = "#3b6ea5"
TRACK = "#e8edf3"


def segment_bars(segments: list[Segment], width: int = 560) -> Markup:
    """Horizontal bars of customers per segment, revenue as a label."""
    if not segments:
        return Markup("")
    label_w, row_h, gap = 150, 22, 8
    bar_w = width - label_w - 70
    peak = max(s.customers for s in segments) or 1
    height = len(segments) * (row_h + gap)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Customers per RFM segment">'
    ]
    for i, s in enumerate(segments):
        y = i * (row_h + gap)
        length = max(2.0, bar_w * s.customers / peak)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="axis">{escape(s.name)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{row_h}" rx="3" fill="{TRACK}"/>'
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{row_h}" rx="3" fill="{BAR}">'
            f"<title>{escape(s.name)}: {s.customers} customers</title></rect>"
            f'<text x="{label_w + length + 6:.1f}" y="{y + 15}" class="value">{s.customers:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _shade(count: int, peak: int) -> str:
    """White to deep blue by share of the busiest cell."""
    share = count / peak if peak else 0
    r, g, b = (int(255 - share * (255 - c)) for c in (31, 78, 135))
    return f"rgb({r},{g},{b})"


def rfm_heatmap(grid: list[list[int]], cell: int = 64) -> Markup:
    """5 x 5 counts: rows R score 5 (top) to 1, columns F score 1 to 5."""
    if not grid:
        return Markup("")
    peak = max(max(row) for row in grid)
    left, top = 44, 10
    size = left + 5 * cell + 10
    parts = [
        f'<svg class="chart heatmap" viewBox="0 0 {size} {top + 5 * cell + 44}" width="{size}" role="img" '
        f'aria-label="Customers by recency and frequency score">'
    ]
    for i, (r_score, row) in enumerate(zip(reversed(SCORES), grid, strict=True)):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 10}" y="{y + cell / 2 + 5}" text-anchor="end" class="axis">R{r_score}</text>'
        )
        for j, count in enumerate(row):
            x = left + j * cell
            ink = "#fff" if peak and count / peak > 0.55 else "#1f2a37"
            fill = _shade(count, peak)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 3}" height="{cell - 3}" rx="4" fill="{fill}" '
                f'stroke="{TRACK}"><title>R{r_score} F{SCORES[j]}: {count}</title></rect>'
                f'<text x="{x + (cell - 3) / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" class="cell" '
                f'fill="{ink}" data-count="{count}">{count}</text>'
            )
    for j, f_score in enumerate(SCORES):
        parts.append(
            f'<text x="{left + j * cell + (cell - 3) / 2}" y="{top + 5 * cell + 18}" text-anchor="middle" '
            f'class="axis">F{f_score}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def interval_chart(point: float | None, low: float | None, high: float | None, span: float,
                   label: str = "", width: int = 120, height: int = 16) -> Markup:
    """A lift and its interval on a scale of -span to +span with 0 marked; empty without an interval.
    Green when the interval lies above 0, red below, grey when it holds 0."""
    if point is None or low is None or high is None or not span:
        return Markup("")
    pad, mid = 4, height / 2

    def x(value: float) -> float:
        return pad + (width - 2 * pad) * (min(max(value, -span), span) + span) / (2 * span)

    colour = "#1e7b4f" if low > 0 else "#b42318" if high < 0 else "#637083"
    return Markup(
        f'<svg class="chart interval" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<line x1="{pad}" y1="{mid}" x2="{width - pad}" y2="{mid}" stroke="{TRACK}" stroke-width="2"/>'
        f'<line x1="{x(0):.1f}" y1="1" x2="{x(0):.1f}" y2="{height - 1}" stroke="#9aa7b8"/>'
        f'<line x1="{x(low):.1f}" y1="{mid}" x2="{x(high):.1f}" y2="{mid}" stroke="{colour}" stroke-width="3"/>'
        f'<circle cx="{x(point):.1f}" cy="{mid}" r="3.5" fill="{colour}"/></svg>'
    )


def week_bars(weeks: list[str], series: list[tuple[str, str, list]], label: str, fmt: str = "{:,.0f}",
              width: int = 560, height: int = 150) -> Markup:
    """Stacked bars, one per week (`weeks`: each week's last day), of the series (name, colour,
    values); each bar's tooltip gives its week and value."""
    if not weeks:
        return Markup("")
    left, bottom, top = 48, 18, 8
    totals = [sum(float(s[2][i] or 0) for s in series) for i in range(len(weeks))]
    peak = max(totals) or 1.0
    step = (width - left) / len(weeks)
    plot = height - bottom - top
    parts = [f'<svg class="chart weekly" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(label)}">',
             f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" class="axis">{fmt.format(peak)}</text>'
             f'<text x="{left - 6}" y="{top + plot}" text-anchor="end" class="axis">0</text>'
             f'<line x1="{left}" y1="{top + plot}" x2="{width}" y2="{top + plot}" stroke="{TRACK}"/>']
    for i, week in enumerate(weeks):
        y = top + plot
        for name, colour, values in series:
            value = float(values[i] or 0)
            h = plot * value / peak
            y -= h
            parts.append(f'<rect x="{left + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>week to {week}: {escape(name)} '
                         f'{fmt.format(value)}</title></rect>')
    for i in (0, len(weeks) - 1):
        anchor = "start" if i == 0 else "end"
        x = left + (i if i == 0 else i + 1) * step
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="{anchor}" class="axis">{weeks[i]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
