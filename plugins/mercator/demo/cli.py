"""`python -m mercator.demo`: write demo landing data and its truth; `... respond`: a campaign's effect."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import deque
from datetime import date
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


def respond_main(argv: list[str]) -> int:
    """`respond`: the world's response to one audience's send (mercator.demo.respond)."""
    from mercator.demo.respond import Campaign, RespondError, respond

    parser = argparse.ArgumentParser(prog="python -m mercator.demo respond",
                                     description="Simulate a campaign's effect on the members Mercator assigned.")
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB file of the run at the send date")
    parser.add_argument("--landing", type=Path, required=True, help="the demo landing directory to add to")
    parser.add_argument("--audience", required=True, help="audience model, e.g. audience_high_value_ads")
    parser.add_argument("--send-date", type=date.fromisoformat, required=True, help="as-of date of that run")
    parser.add_argument("--effect", type=float, required=True, help="absolute conversion lift of the treated")
    parser.add_argument("--base-rate", type=float, required=True, help="conversion probability of the untreated")
    parser.add_argument("--days", type=int, default=14, help="days after the send date with orders")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        campaign = Campaign(args.audience, args.send_date, args.effect, args.base_rate, args.days, args.seed)
        entry = respond(args.warehouse, args.landing, campaign)
    except (RespondError, ValueError) as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    counts = ", ".join(f"{name} {g['conversions']}/{g['members']}" for name, g in entry["groups"].items())
    print(f"responded to {args.audience} at {args.send_date}: {counts} converted", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["respond"]:
        return respond_main(argv[1:])
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
