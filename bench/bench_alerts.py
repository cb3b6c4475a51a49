"""Benchmark the KPI anomaly detector against a plain 28-day z-score on labelled synthetic series.

    .venv/bin/python bench/bench_alerts.py [--series 300] [--days 364] [--seed 7]

The series (mercator.alerts.synthetic) have weekly seasonality, trend, count/amount/rate noise, injected
1-3 day shocks (the labels) and a share of low-volume series without shocks. Printed per detector:
recall (shocked days flagged), episode recall, false alerts per 100 KPI-days without a shock; the
z-score at |z| > 3 and, to show what more recall costs it, at |z| > 2. The
goal for mercator.alerts.detector: recall >= 0.8 at <= 3 false alerts per 100 KPI-days. JSON goes to
bench/results/alerts-seed<seed>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from mercator.alerts.detector import Point, scan  # noqa: E402
from mercator.alerts.synthetic import evaluate, generate  # noqa: E402


def same_weekday(series: Mapping[date, Point]) -> set[date]:
    """mercator.alerts.detector with its defaults."""
    return {d for d, s in scan(series).items() if s.anomaly}


def zscore_28d(series: Mapping[date, Point], z: float = 3.0) -> set[date]:
    """The plain alternative: |value - mean| > z std of the 28 days before, no seasonality or floors."""
    flagged = set()
    for day, point in series.items():
        window = [series[d].value for d in (day - timedelta(days=k) for k in range(1, 29))
                  if d in series and series[d].value is not None]
        if point.value is None or len(window) < 28:
            continue
        std = statistics.pstdev(window)
        if std > 0 and abs(point.value - statistics.fmean(window)) > z * std:
            flagged.add(day)
    return flagged


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = generate(args.series, args.days, args.seed)
    results = {name: vars(evaluate(detector, data)) for name, detector in
               (("same_weekday", same_weekday), ("zscore_28d", zscore_28d),
                ("zscore_28d_z2", lambda series: zscore_28d(series, 2.0)))}
    print(f"{'detector':<14} {'recall':>7} {'episodes':>9} {'false/100':>10} {'kpi-days':>9}")
    for name, r in results.items():
        print(f"{name:<14} {r['recall']:>7.3f} {r['episode_recall']:>9.3f} {r['false_alerts_per_100']:>10.2f} "
              f"{r['kpi_days']:>9}")
    out = ROOT / "bench" / "results" / f"alerts-seed{args.seed}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"series": args.series, "days": args.days, "seed": args.seed, "results": results},
                              indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
