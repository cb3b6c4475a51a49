"""One alerts run: score the latest complete day of marts.kpi_daily, open and resolve episodes, deliver.

Each KPI series (kpi, channel) is scanned by mercator.alerts.detector; its latest day opens an
episode when anomalous (one alert message), resolves the open one when back in range (one recovery
message). A (day, KPI) is scored once: a rerun of the day only retries deliveries that failed. A
failed gate, or one that did not run in this run, holds back the KPIs whose tables it covers and opens
one data episode instead, resolved by the first run whose gates pass. Messages carry aggregates only.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import date, timedelta

from mercator.alerts import state
from mercator.alerts.detector import DEFAULT_CONFIG, DetectorConfig, Point, Score, scan
from mercator.reporting.health import FAILED, NOT_RUN, RunHealth
from mercator.warehouse import table_exists

log = logging.getLogger(__name__)

KPI_TITLES = {"revenue": "Revenue", "orders": "Orders", "aov": "Average order value",
              "new_customers": "New customers", "conversion": "Conversion", "unsubscribe_rate": "Unsubscribe rate"}
RATES = {"conversion", "unsubscribe_rate"}
_SALES = {"marts.fct_orders", "raw.shop__orders", "raw.pos__transactions", "raw._deliveries"}
KPI_TABLES = {  # the tables a KPI is computed from: a gate failing on one of them holds the KPI back
    "revenue": _SALES, "orders": _SALES, "aov": _SALES,
    "new_customers": _SALES | {"marts.dim_customers"},
    "conversion": _SALES | {"raw.web__events"},
    "unsubscribe_rate": {"raw.email__events", "raw.sms__events"},
}
KPI_SOURCE = "marts.kpi_daily"
DATA = "data_quality"  # the kpi of a data episode
RETRY_DAYS = 7  # a message still undelivered after this many days is dropped


def held_back(health: RunHealth) -> tuple[set[str], list[str]]:
    """The KPIs this run's gates hold back, and why."""
    kpis: set[str] = set()
    reasons: list[str] = []
    for gate in health.gates.values():
        if gate.status == NOT_RUN:
            kpis |= set(KPI_TABLES)
            reasons.append(f"the {gate.title} did not run in this run")
        elif gate.status == FAILED:
            tables = gate.failed_tables
            hit = {k for k, t in KPI_TABLES.items() if not tables or tables & t or KPI_SOURCE in tables}
            kpis |= hit
            if hit:
                reasons.append(f"the {gate.title} failed on {', '.join(sorted(tables)) or 'its checks'}")
    return kpis, reasons


def _series(con) -> dict[tuple[str, str], dict[date, Point]]:
    rows = con.execute(f"select kpi, channel, kpi_date, value, volume from {KPI_SOURCE}").fetchall()
    series: dict[tuple[str, str], dict[date, Point]] = defaultdict(dict)
    for kpi, channel, day, value, volume in rows:
        series[(kpi, channel)][day] = Point(value, volume)
    return series


def _id(*parts: object) -> str:
    return hashlib.md5("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _fmt(kpi: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.2f}%" if kpi in RATES else f"{value:,.2f}"


def _label(kpi: str, channel: str | None) -> str:
    return KPI_TITLES.get(kpi, kpi) + (f" ({channel})" if channel else "")


def alert_text(kpi: str, channel: str | None, score: Score, link: str) -> str:
    """The alert's message; an expectation of 0 (no unsubscribes on the baseline days, say) has no relative change."""
    direction = "above" if score.observed > score.high else "below"
    change = "" if score.deviation is None else f"{score.deviation:+.0%} against "
    return (f"{_label(kpi, channel)} on {score.day}: {_fmt(kpi, score.observed)}, {direction} its expected range "
            f"{_fmt(kpi, score.low)} to {_fmt(kpi, score.high)} ({change}{_fmt(kpi, score.expected)} expected). "
            f"{link}")


def recovery_text(kpi: str, channel: str | None, score: Score, opened_on: date, link: str) -> str:
    return (f"Resolved: {_label(kpi, channel)} is back in its expected range on {score.day}: "
            f"{_fmt(kpi, score.observed)} ({_fmt(kpi, score.low)} to {_fmt(kpi, score.high)}); out of range "
            f"since {opened_on}. {link}")


def _open(con, kpi: str, channel: str | None, score: Score, text: str, link: str, kind: str = "kpi") -> None:
    episode_id = _id(kind, kpi, channel, score.day)
    con.execute(
        "insert into alerts.episodes values (?, ?, ?, ?, 'open', ?, null, ?, ?, ?, ?, ?, ?, ?, now())"
        " on conflict do nothing",
        [episode_id, kind, kpi, channel, score.day, score.observed, score.low, score.high, score.expected,
         score.deviation, text, link],
    )
    state.add_message(con, f"{episode_id}:alert", episode_id, "alert", text, link, score.day)


def _resolve(con, episode: dict, day: date, text: str) -> None:
    con.execute("update alerts.episodes set status = 'resolved', resolved_on = ?, updated_at = now() "
                "where episode_id = ?", [day, episode["episode_id"]])
    state.add_message(con, f"{episode['episode_id']}:recovery", episode["episode_id"], "recovery", text,
                      episode["link"], day)


def _data_checks(con, episode: dict | None, kpis: set[str], reasons: list[str], day: date, dashboard: str) -> None:
    """Open one data episode while gates hold KPIs back; resolve it once they pass."""
    link = f"{dashboard}#run-status"
    if kpis and episode is None:
        text = (f"Data checks failed for {day}: {'; '.join(reasons)}. KPI alerts held back for "
                f"{', '.join(sorted(kpis))} until the data passes. {link}")
        _open(con, DATA, None, Score(day, None), text, link, kind="data")
    elif not kpis and episode is not None:
        _resolve(con, episode, day, f"Resolved: the data checks pass again on {day}; KPI alerts resume. {link}")


def deliver(con, targets: list, day: date | None) -> dict[str, dict[str, int]]:
    """Send every message of the last RETRY_DAYS days each target has not had; a failure is recorded and
    retried by the next run."""
    counts: dict[str, dict[str, int]] = {}
    since = day - timedelta(days=RETRY_DAYS) if day else date.min
    for target in targets:
        sent = failed = 0
        for message in state.pending(con, target.name, since):
            try:
                target.send(message)
                error = None
                sent += 1
            except Exception as exc:  # a target that is down must not fail the run: retried next run
                error = f"{type(exc).__name__}: {exc}"[:500]
                failed += 1
                log.warning("alert %s not delivered to %s: %s", message["message_id"], target.name, error)
            state.record_delivery(con, message["message_id"], target.name, error)
        counts[target.name] = {"sent": sent, "failed": failed}
    state.mark_notified(con, [t.name for t in targets])
    return counts


def _score(con, health: RunHealth, dashboard: str, fallback_day: date | None, config: DetectorConfig) -> dict:
    """Open and resolve the episodes of the latest complete day (one transaction)."""
    kpis, reasons = held_back(health)
    series = _series(con) if table_exists(con, KPI_SOURCE) else {}
    if not series:
        kpis, reasons = set(KPI_TABLES), [*reasons, f"{KPI_SOURCE} is missing or empty"]
    day = max((d for points in series.values() for d in points), default=fallback_day)
    summary = {"day": day, "opened": 0, "resolved": 0, "held_back": sorted(kpis)}
    if day is None:
        return summary
    episodes = state.open_episodes(con)
    _data_checks(con, episodes.get((DATA, None)), kpis, reasons, day, dashboard)
    done = {k for (k,) in con.execute("select kpi from alerts.scored where kpi_date = ?", [day]).fetchall()}
    for (kpi, channel), points in sorted(series.items()):
        if kpi in kpis or kpi in done or day not in points:
            continue
        score = scan(points, config)[day]
        shown = None if channel == "all" else channel
        link = f"{dashboard}#kpi-{kpi}"
        episode = episodes.get((kpi, shown))
        if score.anomaly and episode is None:
            _open(con, kpi, shown, score, alert_text(kpi, shown, score, link), link)
            summary["opened"] += 1
        elif episode is not None and score.scored and not score.anomaly:
            _resolve(con, episode, day, recovery_text(kpi, shown, score, episode["opened_on"], link))
            summary["resolved"] += 1
    for kpi in sorted({k for k, _ in series} - kpis - done):
        con.execute("insert into alerts.scored values (?, ?) on conflict do nothing", [day, kpi])
    return summary


def alert_kpis(con, health: RunHealth, targets: list, dashboard: str = "dashboard.html",
               fallback_day: date | None = None, config: DetectorConfig = DEFAULT_CONFIG) -> dict:
    """Score the latest complete day, update the episodes, then deliver; a summary of what happened."""
    state.ensure_schema(con)
    con.begin()
    try:
        summary = _score(con, health, dashboard, fallback_day, config)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    summary["delivered"] = deliver(con, targets, summary["day"])
    summary["day"] = str(summary["day"]) if summary["day"] else None
    return summary
