"""Benchmark the Great Expectations gates (raw after extract, marts after transform) on demo data.

    .venv/bin/python bench/bench_quality.py --customers 100000 1000000

For each size: generate demo data into `<workdir>/c<N>/landing` unless it is there, load it
with the pipeline's own steps (extract, dbt build, dbt build of the scored models) unless the
warehouse is there, then time `check_raw` and `check_marts`, each in its own process as the DAG
runs them (GX import included), `--repeat` times. Reports wall time, peak RSS, the time of each
suite and the rows each suite's table holds; the alternative compared is the same suites with GX's
`COMPLETE` result format (every unexpected value and row index listed, what a user gets by
asking GX for "all the details"), run once on the raw gate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_pipeline import _timed  # noqa: E402

GATES = ("check_raw", "check_marts")
# How the warehouse is filled before timing the gates; Python model steps run when the pipeline has them.
LOAD = ("extract", "transform")
SCORING = ("attribute", "fit_clv", "transform_scored")


def run_gate(gate: str, result_format: str | None) -> None:
    """Child mode: run one gate and print its seconds and each suite's.

    With `result_format`, run the gate's suites through a copy of the GX project whose
    checkpoints use that format instead (no dbt source freshness, nothing recorded).
    """
    import shutil
    import tempfile
    import time

    from mercator import pipeline
    from mercator.config import Settings
    from mercator.quality import run_suites
    from mercator.quality.project import PROJECT_DIR

    settings = Settings.from_env()
    suites = pipeline.RAW_SUITES if gate == "check_raw" else pipeline.MART_SUITES
    start = time.perf_counter()
    if result_format:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(shutil.copytree(PROJECT_DIR, Path(tmp) / "expectations"))
            for checkpoint in (project / "checkpoints").glob("*.json"):
                config = json.loads(checkpoint.read_text())
                checkpoint.write_text(json.dumps({**config, "result_format": {"result_format": result_format}}))
            results = run_suites(settings.warehouse, suites, None, project, as_of=settings.as_of)
        per_suite = {r.suite: r.seconds for r in results}
    else:
        getattr(pipeline, gate)(settings)
        last_run = json.loads((settings.reports_dir / "quality" / "last_run.json").read_text())["suites"]
        per_suite = {s: last_run[s]["seconds"] for s in suites}
    print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "suites": per_suite}))


def _rows(warehouse: Path) -> dict[str, int]:
    import duckdb
    from mercator.quality.suites import SUITES

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        present = {f"{schema}.{table}" for schema, table in tables}
        return {n: con.execute(f"select count(*) from {s.table}").fetchone()[0]
                for n, s in SUITES.items() if s.table in present}


def bench_size(customers: int, seed: int, workdir: Path, repeat: int) -> dict:
    root = workdir / f"c{customers}"
    landing, warehouse = root / "landing", root / "mercator.duckdb"
    env = dict(os.environ, MERCATOR_LANDING=str(landing), MERCATOR_WAREHOUSE=str(warehouse),
               MERCATOR_REPORTS=str(root / "reports"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    stage = [sys.executable, str(Path(__file__).with_name("bench_pipeline.py")), "--stage"]
    if not (landing / "shop").exists():
        _timed([sys.executable, "-m", "mercator.demo", "--customers", str(customers), "--seed", str(seed),
                "--out", str(landing)], env)
    load = {}
    if not warehouse.exists():
        from mercator import pipeline

        for step in LOAD:
            load[step] = _timed([*stage, step], env)
            print(f"  {customers:>8} {step:16} {load[step]}", flush=True)
        for step in (s for s in SCORING if hasattr(pipeline, s)):
            try:  # the marts that read the Python models are then missing and their suites skipped
                load[step] = _timed([*stage, step], env)
            except SystemExit as failure:
                load[step] = {"failed": str(failure).splitlines()[-1][:300]}
            print(f"  {customers:>8} {step:16} {load[step]}", flush=True)
    gates = {}
    for gate in GATES:
        runs = [_timed([sys.executable, __file__, "--gate", gate], env) for _ in range(repeat)]
        gates[gate] = min(runs, key=lambda r: r["seconds"])
        print(f"  {customers:>8} {gate:16} {gates[gate]['seconds']} s, {gates[gate]['peak_mb']} MB", flush=True)
    complete = _timed([sys.executable, __file__, "--gate", "check_raw", "COMPLETE"], env)
    print(f"  {customers:>8} {'raw COMPLETE':16} {complete['seconds']} s", flush=True)
    return {"customers": customers, "load": load, "gates": gates, "raw_gate_complete_format": complete,
            "rows": _rows(warehouse)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--gate":
        return run_gate(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[100000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mercator-bench-quality"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "quality.json")
    args = parser.parse_args()
    results = [bench_size(n, args.seed, args.workdir, args.repeat) for n in args.customers]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
