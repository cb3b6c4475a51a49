"""Attribution on demo data, end to end, one run per size: time and recovery of the channel effects.

    .venv/bin/python bench/bench_attribution_demo.py --customers 10000 100000

For each size: generate demo data, extract it, build the models attribution depends on (identity,
orders), then time the three attribution steps of the DAG: dbt's attribution models (sessions,
touchpoints, paths, rule-based credits, spend), the Python data-driven models (transform.attribute)
and dbt's second pass (per-order data-driven credits, marts). Recovery: the L1 distance between
each model's channel shares and the true shares implied by truth/params.json
(`mercator.attribution.recovery`; 0 = equal, 2 = disjoint; the demo's social referral sites are
compared with its Referral channel).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import duckdb
from mercator import pipeline
from mercator.attribution.recovery import share_distance, true_channel_shares
from mercator.attribution.warehouse import attribute_warehouse
from mercator.config import Settings
from mercator.contract import ENTITIES
from mercator.engine import DuckDBEngine
from mercator.transform import run_dbt

ATTRIBUTION = ("int_web_sessions+", "int_app_sessions+", "int_attribution_conversions+", "int_ad_spend_weekly")
UPSTREAM = ("+fct_orders", "+int_record_customers", "+stg_web__events", "+stg_app__events",
            "+stg_email__events", "+stg_ads__spend", "channel_groupings")
TO_GENERATOR_CHANNEL = {"Organic Social": "Referral"}


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    function(*args, **kwargs)
    return round(time.perf_counter() - started, 2)


def recovery(warehouse: Path, params: dict) -> dict[str, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        paths = con.execute("select * from marts.attribution_paths").df()
        credits = con.execute("select model, channel, conversions from marts.attribution_by_channel").df()
    paths["path"] = paths["path"].replace(TO_GENERATOR_CHANNEL, regex=True)
    truth = true_channel_shares(paths, params["effects"], params["baseline"])
    credits["channel"] = credits["channel"].replace(TO_GENERATOR_CHANNEL)
    return {
        model: round(share_distance(group.groupby("channel")["conversions"].sum(), truth), 3)
        for model, group in credits.groupby("model")
    }


def attribute(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse)) as con:
        attribute_warehouse(DuckDBEngine(con))


def bench_size(customers: int, seed: int, root: Path) -> dict:
    landing = root / "landing"
    subprocess.run([sys.executable, "-m", "mercator.demo", "--customers", str(customers), "--seed", str(seed),
                    "--out", str(landing)], check=True, capture_output=True)
    settings = replace(Settings.from_env(), landing_dir=landing, warehouse=root / "wh.duckdb")
    pipeline.prepare_warehouse(settings)
    for entity in ENTITIES:
        pipeline.extract_entity(settings, entity.path, "bench")
    target = root / "target"
    run_dbt(settings, "build", "--select", *UPSTREAM, "--exclude", *ATTRIBUTION, target_path=target)
    seconds = {
        "dbt_attribution_models": timed(
            run_dbt, settings, "run", "--select", *ATTRIBUTION, "--exclude", "source:ml+", target_path=target
        ),
        "python_data_driven": timed(attribute, settings),
        "dbt_second_pass": timed(
            run_dbt, settings, "run", "--select", "source:ml.attribution_channel_credits+", target_path=target
        ),
    }
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        counts = con.execute(
            """select (select count(*) from intermediate.int_customer_touchpoints),
                      (select count(*) from marts.attribution_paths),
                      (select sum(conversions) from marts.attribution_paths)"""
        ).fetchone()
    params = json.loads((landing / "truth" / "params.json").read_text())["attribution"]
    return {
        "customers": customers,
        "touchpoints": counts[0],
        "distinct_paths": counts[1],
        "attributed_orders": int(counts[2]),
        "seconds": seconds | {"total": round(sum(seconds.values()), 2)},
        "recovery_l1_distance": recovery(settings.warehouse, params),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "attribution_demo.json")
    args = parser.parse_args()
    results = []
    for customers in args.customers:
        with tempfile.TemporaryDirectory(prefix="bench_attribution_") as tmp:
            results.append(bench_size(customers, args.seed, Path(tmp)))
        print(json.dumps(results[-1], indent=2), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
