"""A small warehouse of known orders, customers, ad spend, segment history, sync runs and alerts, for
checking every number of the dashboard against a computation of its own (in the tests, in Python)."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

AS_OF = date(2026, 3, 31)
SEGMENTS_CSV = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds" / "rfm_segments.csv"
SEGMENTS = [row["segment"] for row in csv.DictReader(SEGMENTS_CSV.open())]
HISTORY_START = AS_OF - timedelta(days=40)  # the first recorded segments
HISTORY_CHANGE = AS_OF - timedelta(days=5)  # the second run that changed some
PII = {"email": "shopper{}@example.org", "first_name": "Zebulon{}", "phone": "+1555010{:04d}"}


@dataclass
class Order:
    customer: str | None
    day: date
    amount: Decimal | None  # None: no exchange rate
    countable: bool = True


@dataclass
class Fixture:
    orders: list[Order] = field(default_factory=list)
    spend: dict[date, Decimal] = field(default_factory=dict)
    history: list[tuple] = field(default_factory=list)  # (customer, segment, as_of, valid_from, valid_to)
    monetary: dict[str, Decimal] = field(default_factory=dict)  # customer_rfm
    episodes: list[tuple] = field(default_factory=list)
    sync_runs: list[tuple] = field(default_factory=list)


def _orders(rng: random.Random, customers: int) -> list[Order]:
    orders = []
    for i in range(customers):
        key = f"k{i:03d}"
        day = AS_OF - timedelta(days=rng.randrange(0, 430))
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):
            amount = None if rng.random() < 0.05 else Decimal(rng.randrange(500, 20000)) / 100
            orders.append(Order(key, day, amount, countable=rng.random() > 0.1))
            day += timedelta(days=rng.randrange(3, 60))
    orders += [Order(None, AS_OF - timedelta(days=d), Decimal("12.34")) for d in (2, 9, 33, 40)]  # guests
    orders.append(Order("k000", AS_OF + timedelta(days=3), Decimal("99.99")))  # after the as-of date
    return orders


def _history(rng: random.Random, keys: list[str]) -> list[tuple]:
    """Two snapshot runs (as of HISTORY_START and HISTORY_CHANGE): some customers change segment,
    some appear only in the second, one is dropped (closed without a successor)."""
    t1, t2 = "2026-04-01 01:00:00", "2026-04-01 02:00:00"  # wall-clock times of the two runs
    history = []
    for n, key in enumerate(keys):
        first, second = rng.choice(SEGMENTS), rng.choice(SEGMENTS)
        if n % 7 == 3:  # new since: only in the second run
            history.append((key, second, HISTORY_CHANGE, t2, None))
        elif n % 3 == 0 and first != second:
            history += [(key, first, HISTORY_START, t1, t2), (key, second, HISTORY_CHANGE, t2, None)]
        else:
            history.append((key, first, HISTORY_START, t1, None))
    history.append(("k999", SEGMENTS[0], HISTORY_START, t1, t2))  # dropped in the second run
    return history


def make_fixture(seed: int = 7, customers: int = 60) -> Fixture:
    rng = random.Random(seed)
    fixture = Fixture(orders=_orders(rng, customers))
    fixture.spend = {AS_OF - timedelta(days=d): Decimal(rng.randrange(1000, 9000)) / 100 for d in range(120)}
    for o in fixture.orders:
        if o.customer and o.countable and o.day <= AS_OF:
            fixture.monetary[o.customer] = fixture.monetary.get(o.customer, Decimal(0)) + (o.amount or 0)
    fixture.history = _history(rng, sorted(fixture.monetary))
    fixture.episodes = [
        ("e1", "revenue", None, "open", AS_OF - timedelta(days=2), 1000.0, 1500.0, 2500.0, -500.0, "revenue below"),
        ("e2", "cac", "Paid Social", "notified", AS_OF - timedelta(days=6), 40.0, 10.0, 20.0, 20.0, "CAC above"),
        ("e3", "orders", None, "resolved", AS_OF - timedelta(days=20), 5.0, 10.0, 20.0, -5.0, "resolved one"),
    ]
    fixture.sync_runs = [
        ("r1", "audience_at_risk_email", "outbox", "succeeded", "", False, "2026-03-30 06:00:00+00", 50, 40, 30),
        ("r2", "audience_at_risk_email", "outbox", "succeeded", "", False, "2026-03-31 06:00:00+00", 55, 44, 33),
        ("r3", "audience_at_risk_email", "outbox", "succeeded", "", True, "2026-03-31 07:00:00+00", 99, 99, 99),
        ("r2", "audience_winback_sms", "twilio:sms", "failed", "HTTP 500", False, "2026-03-31 06:10:00+00",
         20, 0, 0),
    ]
    return fixture


def write_warehouse(path: Path, fixture: Fixture, alerts: bool = True) -> Path:
    """The fixture as the marts, staging, snapshot, seed, activation and alerts tables the dashboard reads."""
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "staging", "snapshots", "seeds", "activation", "raw"):
            con.execute(f"create schema {schema}")
        con.execute("create table marts.fct_orders (order_key varchar, customer_key varchar, ordered_at timestamptz, "
                    "net_amount decimal(18, 2), net_amount_reporting decimal(18, 2), reporting_currency varchar, "
                    "is_countable boolean)")
        con.executemany("insert into marts.fct_orders values (?, ?, cast(? as timestamptz), ?, ?, 'USD', ?)", [
            [f"o{i}", o.customer, f"{o.day} 12:00:00+00", o.amount, o.amount, o.countable]
            for i, o in enumerate(fixture.orders)])
        keys = sorted({o.customer for o in fixture.orders if o.customer})
        con.execute("create table marts.dim_customers (customer_key varchar, email varchar, first_name varchar, "
                    "phone varchar)")
        con.executemany("insert into marts.dim_customers values (?, ?, ?, ?)",
                        [[k, *(p.format(i) for p in PII.values())] for i, k in enumerate(keys)])
        con.execute("create table marts.customer_rfm (customer_key varchar, r_score integer, f_score integer, "
                    "m_score integer, segment varchar, monetary decimal(18, 2), as_of date)")
        current = {c: s for c, s, _, _, valid_to in fixture.history if valid_to is None}
        con.executemany("insert into marts.customer_rfm values (?, 1 + ? % 5, 1 + ? % 3, 1, ?, ?, ?)", [
            [k, i, i, current[k], m, AS_OF] for i, (k, m) in enumerate(sorted(fixture.monetary.items()))])
        con.execute(f"create table seeds.rfm_segments as select * from read_csv('{SEGMENTS_CSV}', header = true)")
        con.execute("create table snapshots.customer_segment_history (customer_key varchar, segment varchar, "
                    "as_of date, dbt_valid_from timestamp, dbt_valid_to timestamp)")
        con.executemany("insert into snapshots.customer_segment_history values (?, ?, ?, ?, ?)", fixture.history)
        con.execute("create table staging.stg_ads__spend (date date, spend decimal(18, 2))")
        con.executemany("insert into staging.stg_ads__spend values (?, ?)", list(fixture.spend.items()))
        con.execute("create table activation.sync_runs (run_id varchar, audience varchar, destination varchar, "
                    "status varchar, reason varchar, dry_run boolean, started_at timestamptz, members bigint, "
                    "sent bigint, delivered bigint, unchanged bigint, held_out bigint, control_group bigint, "
                    "capped bigint, unconsented bigint, suppressed bigint, failed bigint)")
        con.executemany("insert into activation.sync_runs values (?, ?, ?, ?, ?, ?, cast(? as timestamptz), ?, ?, ?, "
                        "0, 1, 2, 3, 4, 5, 6)", fixture.sync_runs)
        con.execute("create table raw.quarantine (line integer)")
        if alerts:
            con.execute("create schema alerts")
            con.execute("create table alerts.episodes (episode_id varchar, kpi varchar, channel varchar, "
                        "status varchar, opened_on date, resolved_on date, observed double, expected_low double, "
                        "expected_high double, deviation double, message varchar)")
            con.executemany("insert into alerts.episodes values (?, ?, ?, ?, ?, null, ?, ?, ?, ?, ?)", fixture.episodes)
    return path
