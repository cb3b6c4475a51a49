"""Dashboard section on attribution: model comparison by channel, ROAS and CAC, top converting paths.

Reads the public attribution marts only (channels, campaigns, paths: no person).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from mercator.reporting.charts import BAR, TRACK
from mercator.warehouse import rows, table_exists

FEATURED_MODELS = ("last_touch", "markov", "shapley")
MODEL_COLOURS = {"last_touch": "#9aa7b8", "markov": BAR, "shapley": "#d08c2f"}
MARTS = ("marts.attribution_by_channel", "marts.channel_performance", "marts.attribution_paths")


@dataclass
class AttributionData:
    models: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    shares: dict[tuple[str, str], float] = field(default_factory=dict)  # (channel, model) -> share
    spend_model: str = ""
    campaigns: list[dict] = field(default_factory=list)
    channel_roas: list[dict] = field(default_factory=list)
    top_paths: list[dict] = field(default_factory=list)


def collect_attribution(con) -> AttributionData | None:
    """The section's numbers, or None when the attribution marts are missing or empty."""
    if not all(table_exists(con, table) for table in MARTS):
        return None
    shares = con.execute(
        "select channel, model, conversion_share from marts.attribution_by_channel order by channel, model"
    ).fetchall()
    if not shares:
        return None
    data = AttributionData(shares={(c, m): float(s) for c, m, s in shares})
    data.models = sorted({m for _, m, _ in shares})
    totals: dict[str, float] = {}
    for channel, _, share in shares:
        totals[channel] = totals.get(channel, 0.0) + float(share)
    data.channels = sorted(totals, key=lambda c: -totals[c])
    data.spend_model = "markov" if "markov" in data.models else data.models[0]
    data.campaigns = rows(
        con,
        """select channel, campaign, cast(sum(spend) as double) as spend,
               cast(sum(conversions) as double) as conversions, cast(sum(revenue) as double) as revenue,
               cast(sum(new_customers) as double) as new_customers
           from marts.channel_performance where model = ?
           group by channel, campaign having sum(spend) > 0 order by spend desc""",
        [data.spend_model],
    )
    data.channel_roas = rows(
        con,
        """select channel, model, cast(sum(spend) as double) as spend,
               cast(sum(revenue) / sum(spend) as double) as roas,
               cast(sum(spend) / nullif(sum(new_customers), 0) as double) as cac
           from marts.channel_performance group by channel, model having sum(spend) > 0
           order by channel, model""",
    )
    data.top_paths = rows(
        con,
        """select path, conversions, non_conversions, cast(conversion_value as double) as conversion_value,
               conversions / (conversions + non_conversions) as conversion_rate
           from marts.attribution_paths where conversions > 0
           order by conversions desc, path limit 10""",
    )
    return data


def model_comparison_chart(data: AttributionData, width: int = 620) -> Markup:
    """Grouped horizontal bars: each channel's share of conversions under the featured models."""
    models = [m for m in FEATURED_MODELS if m in data.models]
    if not models:
        return Markup("")
    label_w, bar_h, group_gap = 130, 9, 10
    bar_w = width - label_w - 60
    group_h = len(models) * bar_h + group_gap
    legend_h = 22
    height = legend_h + len(data.channels) * group_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Share of conversions per channel by attribution model">'
    ]
    for i, model in enumerate(models):
        parts.append(
            f'<rect x="{label_w + i * 120}" y="4" width="12" height="12" fill="{MODEL_COLOURS[model]}"/>'
            f'<text x="{label_w + i * 120 + 16}" y="14" class="axis">{escape(model)}</text>'
        )
    for g, channel in enumerate(data.channels):
        top = legend_h + g * group_h
        parts.append(
            f'<text x="{label_w - 8}" y="{top + len(models) * bar_h / 2 + 4}" text-anchor="end" '
            f'class="axis">{escape(channel)}</text>'
        )
        for i, model in enumerate(models):
            share = data.shares.get((channel, model), 0.0)
            y = top + i * bar_h
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h - 1}" fill="{TRACK}"/>'
                f'<rect x="{label_w}" y="{y}" width="{max(1.0, bar_w * share):.1f}" height="{bar_h - 1}" '
                f'fill="{MODEL_COLOURS[model]}"><title>{escape(channel)}, {escape(model)}: '
                f"{share:.1%}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
