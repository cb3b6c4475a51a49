"""The alerts' state in the warehouse, schema `alerts`.

`alerts.episodes`: one row per episode, a KPI series (or the data checks) out of its expected range
from `opened_on` until `resolved_on`; status `open` (its alert not yet delivered everywhere),
`notified`, `resolved`. The dashboard reads it. `alerts.messages`: every message an episode made
(its alert, its recovery). `alerts.deliveries`: which target got which message, the failed attempts
included, so that a target that was down gets it on the next run. `alerts.scored`: the (day, KPI)
pairs scored, so a rerun of a day scores nothing twice.
"""

from __future__ import annotations

DDL = (
    "create schema if not exists alerts",
    """create table if not exists alerts.episodes (
        episode_id varchar primary key, kind varchar, kpi varchar, channel varchar, status varchar,
        opened_on date, resolved_on date, observed double, expected_low double, expected_high double,
        expected double, deviation double, message varchar, link varchar, updated_at timestamptz)""",
    """create table if not exists alerts.messages (
        message_id varchar primary key, episode_id varchar, kind varchar, text varchar, link varchar,
        created_on date)""",
    """create table if not exists alerts.deliveries (
        message_id varchar, target varchar, delivered_at timestamptz, attempts integer, last_error varchar,
        primary key (message_id, target))""",
    "create table if not exists alerts.scored (kpi_date date, kpi varchar, primary key (kpi_date, kpi))",
)


def ensure_schema(con) -> None:
    for statement in DDL:
        con.execute(statement)


def open_episodes(con) -> dict[tuple[str, str | None], dict]:
    """Unresolved episodes keyed by (kpi, channel)."""
    cursor = con.execute("select * from alerts.episodes where status <> 'resolved'")
    names = [d[0] for d in cursor.description]
    return {(row["kpi"], row["channel"]): row for row in (dict(zip(names, r, strict=True)) for r in cursor.fetchall())}


def add_message(con, message_id: str, episode_id: str, kind: str, text: str, link: str, day) -> None:
    con.execute("insert into alerts.messages values (?, ?, ?, ?, ?, ?) on conflict do nothing",
                [message_id, episode_id, kind, text, link, day])


def pending(con, target: str, since) -> list[dict]:
    """Messages of days from `since` on not yet delivered to `target`, oldest first (older ones are
    history: a target added later does not get them)."""
    cursor = con.execute(
        """select m.* from alerts.messages as m
           left join alerts.deliveries as d on d.message_id = m.message_id and d.target = ?
           where d.delivered_at is null and m.created_on >= ? order by m.created_on, m.message_id""",
        [target, since],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def record_delivery(con, message_id: str, target: str, error: str | None) -> None:
    """Record one attempt: delivered (error None) or failed with `error`."""
    con.execute(
        """insert into alerts.deliveries values (?, ?, case when cast(? as varchar) is null then now() end, 1, ?)
           on conflict (message_id, target) do update set
               delivered_at = excluded.delivered_at, attempts = attempts + 1,
               last_error = excluded.last_error""",
        [message_id, target, error, error],
    )


def mark_notified(con, targets: list[str]) -> None:
    """Open episodes whose alert reached every target become `notified`."""
    if not targets:
        return
    marks = ", ".join("?" for _ in targets)
    con.execute(
        f"""update alerts.episodes set status = 'notified', updated_at = now()
            where status = 'open' and (
                select count(distinct d.target) from alerts.deliveries as d
                where d.message_id = alerts.episodes.episode_id || ':alert' and d.delivered_at is not null
                    and d.target in ({marks})) = ?""",
        [*targets, len(targets)],
    )
