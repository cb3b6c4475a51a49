"""Open KPI alerts: the episodes of `alerts.episodes` that are not resolved, newest first.

The table is written by the KPI alerting step; without it the dashboard says there are no alerts.
An episode whose KPI has a tile links to it (`#kpi-<name>`).
"""

from __future__ import annotations

from mercator.reporting.kpis import KPIS
from mercator.warehouse import rows, table_exists

EPISODES = "alerts.episodes"
TILE_NAMES = {k.name for k in KPIS}


def collect_alerts(con) -> list[dict] | None:
    """Unresolved episodes (None: no alerts table)."""
    if not table_exists(con, EPISODES):
        return None
    found = rows(con, f"""
        select episode_id, kpi, channel, status, opened_on, observed, expected_low, expected_high, deviation, message
        from {EPISODES}
        where status is distinct from 'resolved'
        order by opened_on desc, kpi, channel nulls first, episode_id""")
    for episode in found:
        episode["anchor"] = f"kpi-{episode['kpi']}" if episode["kpi"] in TILE_NAMES else None
    return found
