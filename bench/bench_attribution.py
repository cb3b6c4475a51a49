"""Benchmark data-driven attribution against ChannelAttribution's `markov_model`, one run per size.

    .venv/bin/python bench/bench_attribution.py --customers 100000 1000000 --distinct-paths 500000

For each size: simulate that many customer journeys over 10 channels and aggregate them into
distinct paths with counts (`attribution_paths`); `--distinct-paths` adds a stress workload of
that many random distinct paths of 5-12 touches (counts drawn at random). Then time parsing, our
exact first-order Markov (and second order) and Shapley, and ChannelAttribution's simulated
first-order `markov_model` on the same paths (seeded; `nsim_start` 1e6 and `max_step` 200 so that
its estimate is close to exact), and report the largest difference in channel shares of
conversions and of revenue, in percentage points.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from mercator.attribution import markov_attribution, parse_paths, shapley_attribution
from mercator.attribution.synthetic import simulate_paths

CHANNELS = 10
REFERENCE_OPTIONS = {"nsim_start": 1e6, "max_step": 200, "seed": 7, "ncore": 1}


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, round(time.perf_counter() - started, 3)


def reference_markov(data: pd.DataFrame) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):
        import ChannelAttribution

        return ChannelAttribution.markov_model(
            data,
            "path",
            "conversions",
            var_value="conversion_value",
            var_null="non_conversions",
            order=1,
            sep=">",
            verbose=False,
            flg_pro=False,
            **REFERENCE_OPTIONS,
        )


def shares(frame: pd.DataFrame, channel: str, conversions: str, revenue: str) -> pd.DataFrame:
    values = frame.set_index(channel)[[conversions, revenue]]
    return (values / values.sum()).set_axis(["conversions", "revenue"], axis=1)


def random_paths(n_paths: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array([f"channel_{i}" for i in range(CHANNELS)], dtype=object)
    codes, lengths = rng.integers(0, CHANNELS, (n_paths, 12)), rng.integers(5, 13, n_paths)
    paths = [" > ".join(names[row[:n]]) for row, n in zip(codes, lengths, strict=True)]
    journeys = rng.geometric(0.2, n_paths)
    conversions = rng.binomial(journeys, 0.1)
    frame = pd.DataFrame(
        {
            "path": paths,
            "conversions": conversions,
            "non_conversions": journeys - conversions,
            "conversion_value": (conversions * rng.lognormal(4, 0.5, n_paths)).round(2),
        }
    )
    return frame.groupby("path", as_index=False).sum()


def bench_size(workload: str, size: int, seed: int) -> dict:
    generate = simulate_paths if workload == "journeys" else random_paths
    arguments = (size, CHANNELS, seed) if workload == "journeys" else (size, seed)
    data, simulate_seconds = timed(generate, *arguments)
    paths, parse_seconds = timed(parse_paths, data)
    markov, markov_seconds = timed(markov_attribution, paths)
    _, markov_order_2_seconds = timed(markov_attribution, paths, 2)
    _, shapley_seconds = timed(shapley_attribution, paths)
    reference, reference_seconds = timed(reference_markov, data)
    ours = shares(markov.credits, "channel", "conversions", "revenue")
    theirs = shares(reference, "channel_name", "total_conversions", "total_conversion_value")
    difference = (ours.loc[theirs.index] - theirs).abs().max() * 100
    return {
        "workload": workload,
        "size": size,
        "distinct_paths": len(data),
        "channels": CHANNELS,
        "conversions": int(data["conversions"].sum()),
        "simulate_seconds": simulate_seconds,
        "parse_seconds": parse_seconds,
        "markov_seconds": markov_seconds,
        "markov_with_parse_seconds": round(parse_seconds + markov_seconds, 3),
        "markov_order_2_seconds": markov_order_2_seconds,
        "shapley_seconds": shapley_seconds,
        "channel_attribution_markov_seconds": reference_seconds,
        "channel_attribution_options": REFERENCE_OPTIONS,
        "max_share_difference_pp": {
            "conversions": round(float(difference["conversions"]), 3),
            "revenue": round(float(difference["revenue"]), 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--distinct-paths", type=int, nargs="*", default=[])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "attribution.json")
    args = parser.parse_args()
    workloads = [("journeys", n) for n in args.customers] + [("random_paths", n) for n in args.distinct_paths]
    results = [bench_size(workload, size, args.seed) for workload, size in workloads]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
