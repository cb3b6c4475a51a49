"""Benchmark a daily incremental run against a full build of the same warehouse.

    .venv/bin/python bench/bench_incremental.py --landing <demo landing> [--days 800]

The demo's deliveries are cut in two: the history (every file without its last 1/days of rows) and
one day (those rows, as new delivery files: a day's volume, with late events of every quarter). The
history is extracted and built (both dbt passes, CLV and attribution between them); then the day is
extracted and the daily steps run on it (incremental); then a copy of that warehouse is rebuilt with
`--full-refresh` (the full build of the same data). Each step runs in its own process: wall time, CPU
seconds and peak RSS, and the slowest dbt nodes of each pass.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

from bench_pipeline import _timed, slowest_models, stage_env

DAILY = ("extract", "transform", "fit_clv", "attribute", "transform_scored")
DBT_PASSES = ("transform", "transform_scored")


def split_landing(landing: Path, history: Path, day: Path, days: int) -> int:
    """Write `landing`'s deliveries as history and one day's new files; the day's row count.

    Rows are streamed (counted first, then copied): the bench process stays small, which matters
    because a child's peak RSS from wait4 starts at its parent's RSS when it forks.
    """
    day_rows = 0
    for file in sorted(landing.glob("*/*/*.csv")):
        with file.open(newline="", encoding="utf-8") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1
        cut = rows - rows // days
        relative = file.relative_to(landing)
        with file.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            _write_csv(history / relative, header, islice(reader, cut))
            if rows > cut:
                _write_csv(day / relative.with_name(f"{file.stem}_day.csv"), header, reader)
        day_rows += rows - cut
    return day_rows


def _write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _env(root: Path, landing: Path, **extra: str) -> dict[str, str]:
    return stage_env(root, MERCATOR_LANDING=str(landing), **extra)


def _steps(root: Path, env: dict[str, str], label: str) -> dict:
    stage_script = str(Path(__file__).with_name("bench_pipeline.py"))
    steps = {}
    for step in DAILY:
        steps[step] = _timed([sys.executable, stage_script, "--stage", step], env)
        print(f"  {label:12} {step:16} {steps[step]}", flush=True)
    steps["slowest_models"] = {
        stage: slowest_models(root / "dbt_target" / f"run_results_{stage}.json", top=8) for stage in DBT_PASSES
    }
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True, help="demo data (bench_pipeline's or mercator.demo's)")
    parser.add_argument("--days", type=int, default=800, help="one day = 1/days of every delivery's rows")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mercator-bench-incremental"))
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "incremental.json")
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    daily, full = args.workdir / "daily", args.workdir / "full"
    history, day = args.workdir / "history", args.workdir / "day"
    day_rows = split_landing(args.landing, history, day, args.days)
    print(f"one day: {day_rows} rows", flush=True)
    result = {"landing": str(args.landing), "day_rows": day_rows,
              "history": _steps(daily, _env(daily, history), "history")}
    shutil.copytree(day, history, dirs_exist_ok=True)
    result["daily"] = _steps(daily, _env(daily, history), "daily")
    full.mkdir(parents=True)
    shutil.copy(daily / "mercator.duckdb", full / "mercator.duckdb")
    result["full_refresh"] = _steps(full, _env(full, history, DBT_FULL_REFRESH="true"), "full refresh")
    result["ratio"] = {
        step: round(result["daily"][step]["cpu_seconds"] / max(result["full_refresh"][step]["cpu_seconds"], 0.1), 3)
        for step in DBT_PASSES
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("day_rows", "ratio")}, indent=2))


if __name__ == "__main__":
    main()
