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
    print(json.dumps({"seconds": round(time.perf_counter() - start, 2)}))


def _timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Run `cmd`; its wall time and the peak RSS of it and its children (dbt included), from wait4."""
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
    return result


def run_identity(landing: str, warehouse: str) -> None:
    """Child mode: score identity resolution and print it as JSON."""
    import duckdb
    from mercator.evaluation import identity_quality

    with duckdb.connect(warehouse, read_only=True) as con:
        print(json.dumps(identity_quality(con, Path(landing))))


def bench_size(customers: int, seed: int, workdir: Path) -> dict:
    root = workdir / f"c{customers}"
    landing, warehouse = root / "landing", root / "mercator.duckdb"
    subprocess.run(["rm", "-rf", str(root)], check=True)
    env = dict(os.environ, MERCATOR_LANDING=str(landing), MERCATOR_WAREHOUSE=str(warehouse),
               MERCATOR_REPORTS=str(root / "reports"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    demo = [sys.executable, "-m", "mercator.demo", "--customers", str(customers), "--seed", str(seed),
            "--out", str(landing)]
    stages = {"demo": _timed(demo, env)}
    for stage in STAGES:
        stages[stage] = _timed([sys.executable, __file__, "--stage", stage], env)
        print(f"  {customers:>8} {stage:12} {stages[stage]}", flush=True)
    identity = _timed([sys.executable, __file__, "--identity", str(landing), str(warehouse)], env)
    return {"customers": customers, "stages": stages,
            "identity": {k: v for k, v in identity.items() if k not in ("seconds", "peak_mb")}}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--stage":
        return run_stage(sys.argv[2])
    if len(sys.argv) > 3 and sys.argv[1] == "--identity":
        return run_identity(sys.argv[2], sys.argv[3])
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
