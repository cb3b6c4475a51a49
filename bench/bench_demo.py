"""Benchmark the demo generator: wall time, CPU time, peak RSS of the process tree, rows per second.

    .venv/bin/python bench/bench_demo.py --customers 100000 1000000 --workers 2

Each size runs `python -m mercator.demo` in a child process; the peak RSS is the largest sum of
RSS over the child and its worker processes, sampled every 0.1 s with psutil. CPU time is the
child's and its reaped workers' user + system time (wait4). The load average is read before and
after, as the machine may be shared.
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

import psutil


def tree_rss(process: psutil.Process) -> int:
    """RSS of a process and all its descendants, in bytes (processes that just ended count zero)."""
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def data_rows(out: Path) -> int:
    """Data rows written to the landing files (header lines excluded, truth/ left out)."""
    rows = 0
    for file in out.rglob("*.csv"):
        if file.relative_to(out).parts[0] == "truth":
            continue
        with file.open("rb") as handle:
            rows += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
    return rows


def run(customers: int, seed: int, workers: int | None, malformed: float, out: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "mercator.demo", "--customers", str(customers), "--seed", str(seed),
               "--out", str(out), "--malformed-share", str(malformed)]
    if workers is not None:
        command += ["--workers", str(workers)]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    child = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    process, peak = psutil.Process(child.pid), 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(process))
        time.sleep(0.1)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"generator failed: {command}")
    rows = data_rows(out)
    return {
        "customers": customers,
        "workers": workers or "default",
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(peak / 2**20),
        "rows": rows,
        "rows_per_s": round(rows / wall),
        "load_before": " ".join(load_before),
        "load_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workers", type=int, help="passed to the generator (its default if left out)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--malformed-share", type=float, default=0.0)
    parser.add_argument("--out", type=Path, help="landing directory to write (a temporary one if left out)")
    args = parser.parse_args()
    for customers in args.customers:
        with tempfile.TemporaryDirectory(prefix="bench_demo_") as tmp:
            out = args.out / str(customers) if args.out else Path(tmp)
            print(json.dumps(run(customers, args.seed, args.workers, args.malformed_share, out)), flush=True)


if __name__ == "__main__":
    main()
