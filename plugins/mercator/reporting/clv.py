"""Dashboard section on customer value: CLV distribution, CLV by segment and lifecycle stage,
P(alive) against recency, churn tiers with the value at risk.

Reads marts.customer_clv, marts.dim_customers and marts.customer_rfm as aggregates only: no person;
the status of each CLV model from marts.clv_model_params.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from mercator.reporting.charts import BAR, TRACK
from mercator.warehouse import columns, rows, table_exists

MARTS = ("marts.customer_clv", "marts.dim_customers", "marts.customer_rfm")
TIERS = ("light", "moderate", "severe")
TIER_COLOURS = {"light": "#5b9a68", "moderate": "#d0a02f", "severe": "#c0504d"}
CLV_BINS = 20
RECENCY_BUCKET_DAYS = 30


@dataclass
class ClvData:
    as_of: str | None = None
    customers: int = 0
    total_clv: float = 0.0
    histogram: list[tuple[float, float, int]] = field(default_factory=list)  # (low, high, customers)
    by_segment: list[dict] = field(default_factory=list)
    by_stage: list[dict] = field(default_factory=list)
    p_alive_by_recency: list[tuple[int, float, int]] = field(default_factory=list)  # (days, mean, customers)
    tiers: list[dict] = field(default_factory=list)


def collect_clv(con) -> ClvData | None:
    """The section's numbers, or None when the CLV marts are missing or empty."""
    if not all(table_exists(con, table) for table in MARTS):
        return None
    customers, total, top, as_of = con.execute(
        "select count(*), sum(clv), quantile_cont(clv, 0.99), max(as_of) from marts.customer_clv"
    ).fetchone()
    if not customers:
        return None
    data = ClvData(as_of=str(as_of), customers=customers, total_clv=float(total or 0))
    width = max(float(top or 0), 1.0) / CLV_BINS
    counts = dict(
        con.execute(
            f"select least(floor(clv / {width}), {CLV_BINS - 1}), count(*) from marts.customer_clv group by 1"
        ).fetchall()
    )
    data.histogram = [(i * width, (i + 1) * width, int(counts.get(i, 0))) for i in range(CLV_BINS)]
    data.by_segment = rows(
        con,
        """select rfm.segment as label, count(*) as customers, sum(clv.clv) as clv, avg(clv.clv) as mean_clv
           from marts.customer_clv as clv join marts.customer_rfm as rfm using (customer_key)
           group by rfm.segment order by clv desc""",
    )
    data.by_stage = rows(
        con,
        """select lifecycle_stage as label, count(*) as customers, coalesce(sum(clv), 0) as clv,
               avg(clv) as mean_clv
           from marts.dim_customers group by lifecycle_stage order by clv desc, customers desc""",
    )
    data.p_alive_by_recency = [
        (int(days), float(p), int(n))
        for days, p, n in con.execute(
            f"""select floor(date_diff('day', cast(d.last_order_at as date), c.as_of) / {RECENCY_BUCKET_DAYS})
                       * {RECENCY_BUCKET_DAYS}, avg(c.p_alive), count(*)
                from marts.customer_clv as c join marts.dim_customers as d using (customer_key)
                where d.last_order_at is not null group by 1 order by 1"""
        ).fetchall()
    ]
    data.tiers = rows(
        con,
        """select *, value_at_risk / nullif(value_if_active, 0) as share_at_risk
           from (select churn_tier as tier, count(*) as customers, sum(clv) as clv,
                        sum(clv * (1 - p_alive) / nullif(p_alive, 0)) as value_at_risk,
                        sum(clv / nullif(p_alive, 0)) as value_if_active
                 from marts.customer_clv group by churn_tier)""",
    )
    data.tiers.sort(key=lambda row: TIERS.index(row["tier"]) if row["tier"] in TIERS else len(TIERS))
    return data


def model_warnings(con) -> list[dict]:
    """Every CLV model of marts.clv_model_params whose `status` is not `fitted`, with its reason and
    fallback; empty when the mart or its status column does not exist."""
    present = columns(con, "marts.clv_model_params")
    if "status" not in present:
        return []
    reason = "status_reason" if "status_reason" in present else "null"
    fallback = "fallback" if "fallback" in present else "null"
    as_of = "max(as_of)::varchar" if "as_of" in present else "null"
    return rows(
        con,
        f"""select model, coalesce(status, 'unknown') as status, any_value({reason}) as reason,
                any_value({fallback}) as fallback, {as_of} as as_of
            from marts.clv_model_params where status is distinct from 'fitted'
            group by model, status order by model""",
    )


def clv_histogram(data: ClvData, width: int = 560, height: int = 180) -> Markup:
    """Customers per CLV bin (the top 1 % in the last bin)."""
    peak = max((n for _, _, n in data.histogram), default=0) or 1
    bar_w = (width - 40) / len(data.histogram)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 20}" width="100%" role="img" '
             'aria-label="Customers per CLV band">']
    for i, (low, high, n) in enumerate(data.histogram):
        h = (height - 10) * n / peak
        parts.append(
            f'<rect x="{30 + i * bar_w:.1f}" y="{height - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"><title>{low:,.0f}–{high:,.0f}: {n:,} customers</title></rect>'
        )
    top = data.histogram[-1][1] if data.histogram else 0
    parts.append(f'<text x="30" y="{height + 15}" class="axis">0</text>'
                 f'<text x="{width - 10}" y="{height + 15}" text-anchor="end" class="axis">{top:,.0f}+</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def p_alive_chart(data: ClvData, width: int = 560, height: int = 180) -> Markup:
    """Mean P(alive) per 30-day band of days since the last purchase."""
    points = data.p_alive_by_recency
    if not points:
        return Markup("")
    span = max(days for days, _, _ in points) or 1
    left, plot_w = 40, width - 60

    def xy(days: int, p: float) -> tuple[float, float]:
        return left + plot_w * days / span, 10 + (height - 20) * (1 - p)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(d, p) for d, p, _ in points))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 20}" width="100%" role="img" '
             'aria-label="P(alive) against days since the last purchase">',
             f'<rect x="{left}" y="10" width="{plot_w}" height="{height - 20}" fill="{TRACK}"/>',
             f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>']
    for days, p, n in points:
        x, y = xy(days, p)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{BAR}"><title>{days}–'
                     f'{days + RECENCY_BUCKET_DAYS} days: P(alive) {p:.2f}, {n:,} customers</title></circle>')
    parts.append(f'<text x="{left - 4}" y="14" text-anchor="end" class="axis">1</text>'
                 f'<text x="{left - 4}" y="{height - 6}" text-anchor="end" class="axis">0</text>'
                 f'<text x="{left}" y="{height + 15}" class="axis">0 days</text>'
                 f'<text x="{left + plot_w}" y="{height + 15}" text-anchor="end" class="axis">{span} days</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def tier_bars(data: ClvData, width: int = 560) -> Markup:
    """Customers and CLV per churn tier, as shares of all scored customers and CLV."""
    total_customers = sum(row["customers"] for row in data.tiers) or 1
    total_clv = sum(float(row["clv"] or 0) for row in data.tiers) or 1.0
    label_w, bar_w, row_h = 90, width - 150, 34
    parts = [f'<svg class="chart" viewBox="0 0 {width} {row_h * len(data.tiers) + 4}" width="100%" role="img" '
             'aria-label="Customers and CLV per churn tier">']
    for i, row in enumerate(data.tiers):
        top = i * row_h
        colour = TIER_COLOURS.get(row["tier"], BAR)
        for j, share in enumerate((row["customers"] / total_customers, float(row["clv"] or 0) / total_clv)):
            y = top + j * 13
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="11" fill="{TRACK}"/>'
                f'<rect x="{label_w}" y="{y}" width="{max(1.0, bar_w * share):.1f}" height="11" fill="{colour}" '
                f'opacity="{1.0 if j else 0.55}"><title>{escape(row["tier"])}: '
                f'{share:.1%} of {"CLV" if j else "customers"}</title></rect>'
            )
        parts.append(f'<text x="{label_w - 8}" y="{top + 16}" text-anchor="end" class="axis">'
                     f'{escape(row["tier"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
