"""Benchmark the pipeline on demo data: identity-resolution quality and each stage's cost.

    .venv/bin/python bench/bench_pipeline.py --customers 10000 100000

For each size: generate demo data, run every pipeline step in its own process (wall time and
peak RSS, dbt's subprocess included), then score orders grouped into customers against
`truth/records.csv`, both against the true persons and against the best grouping the data
allows (records of one person linked through identifiers no other person uses).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
from mercator.evaluation import pairwise_score
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

STAGES = ("extract", "check_raw", "transform", "check_marts", "activate", "report")
ORDER_ENTITIES = {("shop", "orders"), ("pos", "transactions")}

# Identifiers each person-bearing record carries, read from the staging views.
RECORD_IDENTIFIERS = """
select 'shop' as source, 'orders' as entity, order_id as record_id, 'customer_id' as kind, customer_id as value
  from staging.stg_shop__orders
union all select 'shop', 'orders', order_id, 'email', email from staging.stg_shop__orders
union all select 'shop', 'orders', order_id, 'phone', phone from staging.stg_shop__orders
union all select 'shop', 'orders', order_id, 'anonymous_id', anonymous_id from staging.stg_shop__orders
union all select 'pos', 'transactions', transaction_id, 'loyalty_id', loyalty_id from staging.stg_pos__transactions
union all select 'pos', 'transactions', transaction_id, 'phone', phone from staging.stg_pos__transactions
union all select 'pos', 'transactions', transaction_id, 'email', email from staging.stg_pos__transactions
union all select 'crm', 'contacts', contact_id, 'contact_id', contact_id from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'email', email from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'phone', phone from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'loyalty_id', loyalty_id from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'customer_id', customer_id from staging.stg_crm__contacts
union all select 'web', 'visitors', anonymous_id, 'anonymous_id', anonymous_id from staging.stg_web__events
union all select 'web', 'visitors', anonymous_id, 'customer_id', user_id from staging.stg_web__events
union all select 'web', 'visitors', anonymous_id, 'email', email from staging.stg_web__events
union all select 'app', 'devices', device_id, 'device_id', device_id from staging.stg_app__events
union all select 'app', 'devices', device_id, 'customer_id', user_id from staging.stg_app__events
"""


def run_stage(stage: str) -> None:
    """Child mode: run one pipeline step and print its cost as JSON."""
    from mercator import pipeline
    from mercator.config import Settings

    settings = Settings.from_env()
    start = time.perf_counter()
    if stage == "extract":
        from mercator.contract import ENTITIES

        pipeline.prepare_warehouse(settings)
        for entity in ENTITIES:
            pipeline.extract_entity(settings, entity.path, "bench")
    elif stage == "activate":
        pipeline.activate(settings, "bench")
    else:
        getattr(pipeline, stage)(settings)
    seconds = time.perf_counter() - start
    peak_kb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"seconds": round(seconds, 2), "peak_mb": round(peak_kb / 1024)}))


def _timed(cmd: list[str], env: dict[str, str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1]) if "{" in proc.stdout else {}
    result.setdefault("seconds", round(time.perf_counter() - start, 2))
    return result


def best_groups(con: duckdb.DuckDBPyConnection, truth: dict[tuple[str, str, str], str]) -> dict:
    """Label every record with its component under identifiers that only one person uses."""
    rows = con.execute(f"select * from ({RECORD_IDENTIFIERS}) where value is not null").fetchall()
    records = {key: i for i, key in enumerate(truth)}
    persons_of: dict[tuple[str, str], set[str]] = {}
    for source, entity, record_id, kind, value in rows:
        person = truth.get((source, entity, record_id))
        if person is not None:
            persons_of.setdefault((kind, value), set()).add(person)
    clean = {ident: len(records) + i for i, ident in enumerate(k for k, v in persons_of.items() if len(v) == 1)}
    edges = [
        (records[(s, e, r)], clean[(k, v)])
        for s, e, r, k, v in rows
        if (s, e, r) in records and (k, v) in clean
    ]
    n = len(records) + len(clean)
    src, dst = np.array(edges, dtype=np.int64).reshape(-1, 2).T
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return {key: f"g{labels[i]}" for key, i in records.items()}


def identity_quality(landing: Path, warehouse: Path) -> dict:
    with open(landing / "truth" / "records.csv", newline="") as f:
        truth = {(r["source"], r["entity"], r["record_id"]): r["person_id"] for r in csv.DictReader(f)}
    con = duckdb.connect(str(warehouse), read_only=True)
    predicted = dict(
        ((s, e, r), k)
        for s, e, r, k in con.execute(
            "select source, entity, record_id, customer_key from intermediate.int_record_customers"
        ).fetchall()
    )
    best = best_groups(con, truth)
    con.close()
    orders = [key for key in truth if key[:2] in ORDER_ENTITIES]
    vs_truth = pairwise_score([(key, predicted.get(key), truth[key]) for key in orders])
    vs_best = pairwise_score([(key, predicted.get(key), best[key]) for key in orders])
    ceiling = pairwise_score([(key, best[key], truth[key]) for key in orders])
    return {
        "orders": len(orders),
        "vs_truth": {"precision": round(vs_truth.precision, 5), "recall": round(vs_truth.recall, 5)},
        "vs_best_possible": {"precision": round(vs_best.precision, 5), "recall": round(vs_best.recall, 5)},
        "best_possible_vs_truth": {"precision": round(ceiling.precision, 5), "recall": round(ceiling.recall, 5)},
    }


def bench_size(customers: int, seed: int, workdir: Path) -> dict:
    import os

    root = workdir / f"c{customers}"
    landing, warehouse = root / "landing", root / "mercator.duckdb"
    subprocess.run(["rm", "-rf", str(root)], check=True)
    env = dict(os.environ, MERCATOR_LANDING=str(landing), MERCATOR_WAREHOUSE=str(warehouse),
               MERCATOR_REPORTS=str(root / "reports"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    stages = {"demo": _timed([sys.executable, __file__, "--demo", str(customers), str(seed), str(landing)], env)}
    for stage in STAGES:
        stages[stage] = _timed([sys.executable, __file__, "--stage", stage], env)
        print(f"  {customers:>8} {stage:12} {stages[stage]}", flush=True)
    return {"customers": customers, "stages": stages, "identity": identity_quality(landing, warehouse)}


def run_demo(customers: str, seed: str, out: str) -> None:
    """Child mode: generate demo data and print its cost."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mercator.demo", "--customers", customers, "--seed", seed,
                    "--out", out], check=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "peak_mb": round(peak_kb / 1024)}))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--stage":
        return run_stage(sys.argv[2])
    if len(sys.argv) > 4 and sys.argv[1] == "--demo":
        return run_demo(*sys.argv[2:5])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[10000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mercator-bench"))
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "pipeline.json")
    args = parser.parse_args()
    results = [bench_size(n, args.seed, args.workdir) for n in args.customers]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
