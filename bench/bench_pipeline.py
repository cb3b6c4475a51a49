"""Benchmark the pipeline on demo data: identity-resolution quality and each stage's cost.

    .venv/bin/python bench/bench_pipeline.py --customers 10000 100000

For each size: generate demo data, run every pipeline step in its own process (wall time and
peak RSS, dbt's subprocess included), then score orders grouped into customers against
`truth/records.csv`, both against the true persons and against the best grouping the data
allows (records of one person linked through identifiers no other person uses).

Peak memory is the ru_maxrss of each child process (and its children, dbt included) from wait4.
Linux counts the forking parent's RSS into a child's maxrss, so the parent stays small (~20 MB)
and scores identity in a child too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = (
    "extract", "check_raw", "transform", "fit_clv", "attribute", "transform_scored", "check_marts", "activate", "report"
)

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
    seconds = round(time.perf_counter() - start, 2)
    if stage.startswith("transform"):  # keep each dbt pass's timings: the next pass overwrites them
        results = settings.dbt_target_dir / "run_results.json"
        results.replace(results.with_name(f"run_results_{stage}.json"))
    print(json.dumps({"seconds": seconds}))


def _timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Run `cmd`; its wall time, CPU time and the peak RSS of it and its children (dbt included), from wait4."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{output[-4000:]}")
    lines = [line for line in output.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    result.setdefault("seconds", round(time.perf_counter() - start, 2))
    result["peak_mb"] = round(usage.ru_maxrss / 1024)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)  # comparable on a busy machine
    return result


def run_identity(landing: str, warehouse: str) -> None:
    """Child mode: score identity resolution and print it as JSON."""
    import duckdb
    from mercator.config import duckdb_resources
    from mercator.evaluation import identity_quality

    with duckdb.connect(warehouse, read_only=True, config=duckdb_resources(Path(warehouse))) as con:
        con.execute("set enable_progress_bar = false")
        print(json.dumps(identity_quality(con, Path(landing))))


def stage_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment of a stage process: the warehouse, reports, dbt artefacts and model cards under `root`."""
    return dict(os.environ, MERCATOR_WAREHOUSE=str(root / "mercator.duckdb"), MERCATOR_REPORTS=str(root / "reports"),
                MERCATOR_DBT_TARGET=str(root / "dbt_target"), MERCATOR_MODELS=str(root / "models"),
                DBT_SEND_ANONYMOUS_USAGE_STATS="false", **extra)


def bench_size(customers: int, seed: int, workdir: Path, landing: Path | None = None) -> dict:
    """One size: demo data (unless `landing` holds it already), then every stage in its own process."""
    root = workdir / f"c{customers}"
    subprocess.run(["rm", "-rf", str(root)], check=True)
    root.mkdir(parents=True)
    warehouse = root / "mercator.duckdb"
    env = stage_env(root)
    stages = {}
    if landing is None:
        landing = root / "landing"
        demo = [sys.executable, "-m", "mercator.demo", "--customers", str(customers), "--seed", str(seed),
                "--out", str(landing)]
        stages["demo"] = _timed(demo, env)
    env["MERCATOR_LANDING"] = str(landing)
    for stage in STAGES:
        stages[stage] = _timed([sys.executable, __file__, "--stage", stage], env)
        print(f"  {customers:>8} {stage:12} {stages[stage]}", flush=True)
    identity = _timed([sys.executable, __file__, "--identity", str(landing), str(warehouse)], env)
    total = round(sum(s["seconds"] for s in stages.values()), 1)
    return {"customers": customers, "stages": stages, "total_seconds": total,
            "peak_mb": max(s["peak_mb"] for s in stages.values()),
            "slowest_models": {stage: slowest_models(root / "dbt_target" / f"run_results_{stage}.json")
                               for stage in ("transform", "transform_scored")},
            "identity": {k: v for k, v in identity.items() if k != "seconds"}}


def slowest_models(path: Path, top: int = 5) -> list[dict]:
    """The most expensive nodes of a dbt run (its run_results.json), slowest first."""
    if not path.exists():
        return []
    nodes = json.loads(path.read_text())["results"]
    ranked = sorted(nodes, key=lambda node: node["execution_time"], reverse=True)[:top]
    return [{"node": node["unique_id"], "seconds": round(node["execution_time"], 2)} for node in ranked]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--stage":
        return run_stage(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[1] == "--identity":
        return run_identity(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[10000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mercator-bench"))
    parser.add_argument("--landing", type=Path, nargs="+", help="existing demo data per size (skips generation)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "pipeline.json")
    args = parser.parse_args()
    landings = args.landing or [None] * len(args.customers)
    sizes = zip(args.customers, landings, strict=True)
    results = [bench_size(n, args.seed, args.workdir, landing) for n, landing in sizes]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
