"""Benchmark the daily journey evaluation: the shipped journeys (dbt_project/journeys/) over a generated warehouse.

    .venv/bin/python bench/bench_journeys.py [--customers 100000 1000000] [--days 3]

The warehouse (DuckDB, generated in SQL) holds what the journeys read: marts.dim_customers (email
consent granted for 90%, a churn tier for 30%), marts.fct_orders (a year of orders, about three per
customer), marts.customer_journey_events (every customer's identification, checkouts at about 3% of
customers a day, the orders) and marts.customer_rfm's as-of date. Day 0 is the journeys' first run
(enrollment as each journey says); each later day adds that day's identifications, checkouts and
orders and moves 1% of the customers to another churn tier, then all four journeys are evaluated as
the DAG does (`pipeline.run_journeys` logic: every journey in name order, sends through activation).
No connection is configured, so messages go to the outbox files, as `make run` does.

Per day: wall and CPU seconds of the evaluation, peak RSS, and the journeys' counts; the goal is at
most 60 s for a daily evaluation at 1M customers. JSON goes to bench/results/journeys-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from mercator.activation.runner import control_group, frequency_caps, known_types, project_vars  # noqa: E402
from mercator.journeys.engine import JourneyRun, evaluate_all  # noqa: E402
from mercator.journeys.spec import load_journeys  # noqa: E402
from mercator.warehouse import connect  # noqa: E402

START = date(2026, 6, 1)


def generate(con, customers: int) -> None:
    con.execute("create schema marts")
    con.execute(f"""create table marts.dim_customers as
        select 'k' || lpad(cast(i as varchar), 8, '0') as customer_key, 'p' || i || '@example.com' as email,
            '+1555' || lpad(cast(i as varchar), 7, '0') as phone, 'First' || i as first_name,
            case when i % 10 = 0 then 'unknown' else 'granted' end as email_consent,
            case when i % 5 = 0 then 'granted' else 'unknown' end as sms_consent, 'unknown' as push_consent,
            false as is_erased,
            case when i % 10 < 3 then ['light', 'moderate', 'severe'][1 + i % 3] end as churn_tier
        from range({customers}) as t (i)""")
    con.execute(f"""create table marts.fct_orders as
        select 'k' || lpad(cast(i % {customers} as varchar), 8, '0') as customer_key, 'o' || i as order_key,
            timestamp '{START}' - to_minutes(cast(hash(i) % (365 * 1440) as bigint)) as ordered_at
        from range({customers * 3}) as t (i)""")
    con.execute(f"""create table marts.customer_journey_events as
        select customer_key, 'identified' as event_name, customer_key as event_id,
            timestamp '{START}' - to_minutes(cast(hash(customer_key) % (720 * 1440) as bigint)) as occurred_at
        from marts.dim_customers
        union all
        select customer_key, 'order', order_key, ordered_at from marts.fct_orders
        union all
        select 'k' || lpad(cast(hash(i) % {customers} as varchar), 8, '0'), 'begin_checkout', 'b' || i,
            timestamp '{START}' - to_minutes(cast(hash(i + 7) % (30 * 1440) as bigint))
        from range({customers * 30 // 100 * 3 // 10}) as t (i)""")
    con.execute(f"create table marts.customer_rfm as select date '{START}' as as_of")


def add_day(con, customers: int, n: int) -> None:
    """Day n's data: new identifications, checkouts (3% of customers), orders, 1% churn-tier moves."""
    day = START + timedelta(days=n)
    new = customers // 1000
    con.execute(f"""insert into marts.dim_customers
        select 'n{n}-' || i, 'n{n}-' || i || '@example.com', null, 'New' || i, 'granted', 'unknown', 'unknown',
            false, null
        from range({new}) as t (i)""")
    con.execute(f"""insert into marts.customer_journey_events
        select 'n{n}-' || i, 'identified', 'n{n}-' || i, timestamp '{day}' + to_minutes(i % 1440)
        from range({new}) as t (i)""")
    con.execute(f"""insert into marts.customer_journey_events
        select 'k' || lpad(cast(hash(i, {n}) % {customers} as varchar), 8, '0'), 'begin_checkout', 'b{n}-' || i,
            timestamp '{day}' + to_minutes(cast(hash(i, {n}, 1) % 1440 as bigint))
        from range({customers * 3 // 100}) as t (i)""")
    con.execute(f"""insert into marts.fct_orders
        select 'k' || lpad(cast(hash(i, {n}, 2) % {customers} as varchar), 8, '0'), 'o{n}-' || i,
            timestamp '{day}' + to_minutes(cast(hash(i, {n}, 3) % 1440 as bigint))
        from range({customers * 3 // 365}) as t (i)""")
    con.execute(f"""insert into marts.customer_journey_events
        select customer_key, 'order', order_key, ordered_at from marts.fct_orders where order_key like 'o{n}-%'""")
    con.execute(f"""update marts.dim_customers
        set churn_tier = ['light', 'moderate', 'severe', null][1 + cast(hash(customer_key, {n}) % 4 as bigint)]
        where hash(customer_key, {n}, 4) % 100 = 0""")
    con.execute(f"update marts.customer_rfm set as_of = date '{day}'")


def run(customers: int, days: int, workdir: Path) -> list[dict]:
    path = workdir / f"journeys-{customers}.duckdb"
    path.unlink(missing_ok=True)
    con = connect(path)  # the pipeline's memory limit, threads and spill directory

    @contextmanager
    def open_warehouse():
        yield con

    generate(con, customers)
    project = ROOT / "dbt_project"
    journeys = load_journeys(project / "journeys", known_types())
    results = []
    for n in range(days + 1):
        if n:
            add_day(con, customers, n)
        settings = project_vars(project)
        run_ = JourneyRun(f"bench-day-{n}", workdir / "reports", workdir, frequency_caps(settings),
                          control_group(settings))
        wall, cpu = time.perf_counter(), time.process_time()
        summaries = evaluate_all(open_warehouse, journeys, run_)
        results.append({"customers": customers, "day": n, "wall_s": round(time.perf_counter() - wall, 2),
                        "cpu_s": round(time.process_time() - cpu, 2),
                        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                        "journeys": summaries})
        print(json.dumps(results[-1]), flush=True)
    con.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        results = [r for n in args.customers for r in run(n, args.days, workdir)]
    print("\n| customers | day | wall s | CPU s | peak RSS MB | entered | sent | skipped | exited | active |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        total = {k: sum(j[k] for j in r["journeys"]) for k in ("entered", "sent", "skipped", "exited", "active")}
        print(f"| {r['customers']:,} | {r['day']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']:,} | "
              + " | ".join(f"{total[k]:,}" for k in ("entered", "sent", "skipped", "exited", "active")) + " |")
    out = ROOT / "bench" / "results" / f"journeys-{date.today()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
