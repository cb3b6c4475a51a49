"""`python -m mercator.demo`: write demo landing data and its truth."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import deque
from pathlib import Path

from mercator.demo.batch import BATCH_SIZE, generate_batch
from mercator.demo.params import DemoParams
from mercator.demo.writers import LandingWriter


def generate(params: DemoParams, out: Path, workers: int = 1) -> None:
    """Generate batch by batch (in worker processes if asked) and stream each result to disk in order."""
    writer = LandingWriter(out, params)
    batches = range(-(-params.n_customers // BATCH_SIZE))
    if workers <= 1:
        for batch in batches:
            writer.write(generate_batch(params, batch))
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending: deque = deque()
            for batch in batches:
                pending.append(pool.apply_async(generate_batch, (params, batch)))
                if len(pending) >= 2 * workers:
                    writer.write(pending.popleft().get())
            while pending:
                writer.write(pending.popleft().get())
    writer.finish()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mercator.demo", description=__doc__)
    parser.add_argument("--customers", type=int, required=True, help="number of persons to simulate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="landing directory to write")
    parser.add_argument("--end-date", default="2026-10-31")
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument(
        "--malformed-share",
        type=float,
        default=0.0,
        help="share of extra malformed rows inserted into delivery files",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="worker processes (output is identical for any value)",
    )
    args = parser.parse_args(argv)
    params = DemoParams(
        n_customers=args.customers,
        seed=args.seed,
        end_date=args.end_date,
        years=args.years,
        malformed_share=args.malformed_share,
    )
    started = time.monotonic()
    generate(params, args.out, args.workers)
    print(
        f"wrote {args.customers} persons to {args.out} in {time.monotonic() - started:.1f}s", file=sys.stderr
    )
    return 0
