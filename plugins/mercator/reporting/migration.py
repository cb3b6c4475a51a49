"""RFM segment migration between the as-of date minus 30 days and the as-of date, from the segment
history (dbt snapshot `snapshots.customer_segment_history`).

Each version of a customer's segment carries the `as_of` of the run that recorded it; a customer's
segment on a day is their latest version recorded on or before that day. A customer with no version
then is "not scored" (a new customer, or one whose history starts later); at the as-of date, a
customer whose latest version was closed without a successor (dropped from customer_rfm) is too.

A move is a downgrade when the segment it goes to ranks lower: a segment ranks by the middle of its
R and FM score ranges in seed `rfm_segments` (the sum of both). A downgrade's value is the net
revenue to date (`marts.customer_rfm.monetary`) of the customers who made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from mercator.warehouse import table_exists

HISTORY = "snapshots.customer_segment_history"
DAYS = 30
NONE = "not scored"
TOP_DOWNGRADES = 5

MOVES_SQL = """
with history as (
    select customer_key, segment, as_of, dbt_valid_from, dbt_valid_to,
        lead(as_of) over (partition by customer_key order by dbt_valid_from) as next_as_of
    from {history}
),
before as (
    select customer_key, segment from history where as_of <= $start
    qualify row_number() over (partition by customer_key order by as_of desc, dbt_valid_from desc) = 1
),
after as (
    select customer_key, segment from history
    where as_of <= $end and not (dbt_valid_to is not null and next_as_of is null)
    qualify row_number() over (partition by customer_key order by as_of desc, dbt_valid_from desc) = 1
),
moves as (
    select coalesce(b.customer_key, a.customer_key) as customer_key,
        coalesce(b.segment, '{none}') as from_segment, coalesce(a.segment, '{none}') as to_segment
    from before as b
    full join after as a using (customer_key)
)
select m.from_segment, m.to_segment, count(*) as customers, {value} as value
from moves as m{join}
group by all
"""


@dataclass
class Migration:
    start: date  # as-of minus DAYS
    end: date  # as-of
    history_from: date | None  # the earliest as_of in the history
    segments: list[str] = field(default_factory=list)  # best first, then NONE
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    values: dict[tuple[str, str], float] = field(default_factory=dict)
    ranks: dict[str, float] = field(default_factory=dict)

    @property
    def has_start(self) -> bool:
        return self.history_from is not None and self.history_from <= self.start

    def is_downgrade(self, source: str, target: str) -> bool:
        return source in self.ranks and target in self.ranks and self.ranks[target] < self.ranks[source]

    def downgrades(self) -> list[tuple[str, str, int, float]]:
        """The largest downgrades by value: (from, to, customers, value)."""
        found = [(s, t, n, self.values.get((s, t), 0.0)) for (s, t), n in self.counts.items()
                 if self.is_downgrade(s, t)]
        return sorted(found, key=lambda d: (-d[3], -d[2], d[0], d[1]))[:TOP_DOWNGRADES]


def _ranks(con) -> dict[str, float]:
    if not table_exists(con, "seeds.rfm_segments"):
        return {}
    found = con.execute(
        "select segment, (r_score_min + r_score_max + fm_score_min + fm_score_max) / 2.0 from seeds.rfm_segments"
    ).fetchall()
    return {segment: float(rank) for segment, rank in found}


def collect_migration(con, as_of: str | None) -> Migration | None:
    """The matrix of moves from as-of minus 30 days to as-of; None without a segment history."""
    if not as_of or not table_exists(con, HISTORY):
        return None
    end = date.fromisoformat(as_of)
    start = end - timedelta(days=DAYS)
    with_rfm = table_exists(con, "marts.customer_rfm")
    sql = MOVES_SQL.format(
        history=HISTORY, none=NONE,
        value="coalesce(sum(r.monetary), 0)" if with_rfm else "0",
        join=" left join marts.customer_rfm as r using (customer_key)" if with_rfm else "",
    )
    found = con.execute(sql, {"start": start, "end": end}).fetchall()
    history_from = con.execute(f"select min(as_of) from {HISTORY}").fetchone()[0]
    migration = Migration(start, end, history_from, ranks=_ranks(con))
    for source, target, n, value in found:
        migration.counts[(source, target)] = int(n)
        migration.values[(source, target)] = float(value)
    named = {s for pair in migration.counts for s in pair} - {NONE}
    migration.segments = [*sorted(named, key=lambda s: (-migration.ranks.get(s, 0.0), s)), NONE]
    return migration
