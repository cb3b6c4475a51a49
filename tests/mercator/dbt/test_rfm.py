"""customer_rfm: values from countable orders, rank-based R and M scores with ties, F scores from the
frequency bins seed, segments from the seed; the at-risk email audience; as_of and the segment history
snapshot."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import floor

from tests.mercator.dbt.orders_fixtures import (
    AT_RISK_SEGMENTS,
    AUDIENCE_CASES,
    EARLIER_AS_OF,
    LATEST_ORDER_DATE,
    Build,
    orders_build,
)

RFM_COLUMNS = "customer_key, recency_days, frequency, monetary, r_score, f_score, m_score, segment, as_of"


def expected_rfm_values(build: Build, as_of: date) -> dict[str, tuple[int, int, Decimal]]:
    """(recency_days, frequency, monetary) per customer from fct_orders, countable orders up to as_of."""
    orders = build.rows(
        "select customer_key, cast(ordered_at as date), net_amount from marts.fct_orders "
        "where is_countable and customer_key is not null"
    )
    by_customer: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for key, day, net in orders:
        if day <= as_of:
            by_customer[key].append((day, net))
    return {
        key: ((as_of - max(d for d, _ in rows)).days, len(rows), sum(n for _, n in rows))
        for key, rows in by_customer.items()
    }


def rank_scores(values: dict[str, object], descending: bool = False) -> dict[str, int]:
    """1 + floor(5 * percent_rank), capped at 5; equal values share the rank of the first of them."""
    n = len(values)
    scores = {}
    for key, value in values.items():
        rank = 1 + sum(1 for other in values.values() if (other > value if descending else other < value))
        scores[key] = min(5, 1 + floor(5 * Fraction(rank - 1, max(n - 1, 1))))
    return scores


def bin_scores(build: Build, frequencies: dict[str, int]) -> dict[str, int]:
    """The f_score of the seed rfm_frequency_bins row holding each frequency (empty max: no bound)."""
    with (build.project / "seeds" / "rfm_frequency_bins.csv").open() as f:
        bins = [(int(r["f_score"]), int(r["frequency_min"]), int(r["frequency_max"] or 10**9))
                for r in csv.DictReader(f)]
    return {key: next(score for score, low, high in bins if low <= n <= high) for key, n in frequencies.items()}


def seed_segment(build: Build, r_score: int, fm_score: int) -> list[str]:
    with (build.project / "seeds" / "rfm_segments.csv").open() as f:
        return [
            row["segment"]
            for row in csv.DictReader(f)
            if int(row["r_score_min"]) <= r_score <= int(row["r_score_max"])
            and int(row["fm_score_min"]) <= fm_score <= int(row["fm_score_max"])
        ]


def rfm(build: Build) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in build.rows(f"select {RFM_COLUMNS} from marts.customer_rfm")}


def order_customer(build: Build, source_order_id: str) -> str:
    return build.rows(
        f"select customer_key from marts.fct_orders where source_order_id = '{source_order_id}'"
    )[0][0]


def test_rfm_values_come_from_countable_orders_up_to_latest_order_date() -> None:
    build = orders_build()
    rows = rfm(build)
    assert {key: row[:3] for key, row in rows.items()} == expected_rfm_values(build, LATEST_ORDER_DATE)
    assert {row[-1] for row in rows.values()} == {LATEST_ORDER_DATE}
    assert order_customer(build, "carol-cancelled") not in rows


def test_scores_rank_customers_and_ties_share_scores() -> None:
    build = orders_build()
    rows = rfm(build)
    assert {k: r[3] for k, r in rows.items()} == rank_scores(
        {k: r[0] for k, r in rows.items()}, descending=True
    )
    assert {k: r[4] for k, r in rows.items()} == bin_scores(build, {k: r[1] for k, r in rows.items()})
    assert {k: r[5] for k, r in rows.items()} == rank_scores({k: r[2] for k, r in rows.items()})
    loyal = {rows[order_customer(build, f"{email}-0")][:6] for email in AUDIENCE_CASES}
    assert len(loyal) == 1, "identical buyers must get identical values and scores"


def test_segment_is_the_seed_cell_of_the_scores() -> None:
    build = orders_build()
    for r_score, f_score, m_score, segment in (row[3:7] for row in rfm(build).values()):
        assert [segment] == seed_segment(build, r_score, (f_score + m_score + 1) // 2)


def test_audience_keeps_only_consented_unsuppressed_at_risk_customers() -> None:
    build = orders_build()
    segments = {key: row[6] for key, row in rfm(build).items()}
    loyal_keys = {email: order_customer(build, f"{email}-0") for email in AUDIENCE_CASES}
    assert {segments[key] for key in loyal_keys.values()} <= set(AT_RISK_SEGMENTS), (
        "scenario: old buyers at risk"
    )
    expected = {key for email, key in loyal_keys.items() if AUDIENCE_CASES[email].reachable}
    assert 0 < len(expected) < len(loyal_keys)
    audience = build.rows(
        "select a.customer_key, a.email, a.first_name, a.segment, a.recency_days, a.monetary, a.audience, "
        "d.email, d.first_name, r.segment, r.recency_days, r.monetary from marts.audience_at_risk_email as a "
        "join marts.dim_customers as d using (customer_key) join marts.customer_rfm as r using (customer_key)"
    )
    assert {row[0] for row in audience} == expected
    for row in audience:
        assert row[1:3] == row[7:9] and row[3:6] == row[9:12] and row[6] == "at_risk_email"


def test_as_of_filters_rfm_not_orders_and_snapshot_keeps_segment_history() -> None:
    build = orders_build().copy("history")
    build.dbt("snapshot", "--select", "customer_segment_history")
    before = {key: row[6] for key, row in rfm(build).items()}
    orders_before = build.rows("select count(*) from marts.fct_orders")

    build.dbt("run", "--select", "+customer_rfm", "fct_orders", as_of=EARLIER_AS_OF)
    as_of = date.fromisoformat(EARLIER_AS_OF)
    rows = rfm(build)
    assert build.rows("select count(*) from marts.fct_orders") == orders_before
    assert {key: row[:3] for key, row in rows.items()} == expected_rfm_values(build, as_of)
    assert {row[-1] for row in rows.values()} == {as_of}
    after = {key: row[6] for key, row in rows.items()}
    assert any(before[key] != segment for key, segment in after.items()) and set(before) - set(after)

    build.dbt("snapshot", "--select", "customer_segment_history", as_of=EARLIER_AS_OF)
    history = build.rows(
        "select customer_key, segment, dbt_valid_to is null from snapshots.customer_segment_history"
    )
    assert {(key, segment) for key, segment, current in history if current} == set(after.items())
    closed = {(key, segment) for key, segment, current in history if not current}
    assert closed == {(key, segment) for key, segment in before.items() if after.get(key) != segment}
