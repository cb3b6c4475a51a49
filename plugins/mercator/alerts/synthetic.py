"""Labelled synthetic KPI series to measure a detector: weekly seasonality, trend, noise, injected shocks.

Each series is a count (orders), an amount (revenue) or a rate (unsubscribes per message) with a
weekly profile (weekday factors up to about +-40%), a linear trend of up to +-30% a year and the noise
its kind has (Poisson counts, lognormal order values, binomial rates). Shocks multiply 1 to 3
consecutive days by 0.3-0.65 (drops) or 1.6-2.5 (spikes); they are the labels. A share of the series
is low-volume (a handful of units a day) and has no shocks: a detector should stay quiet there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from mercator.alerts.detector import Point

START = date(2025, 1, 6)
WARMUP_DAYS = 63  # days before scoring starts: nine weeks of history


@dataclass(frozen=True)
class LabelledSeries:
    kind: str  # count | amount | rate
    series: dict[date, Point]
    shocks: list[list[date]] = field(default_factory=list)  # each shock's days


def _series(rng: np.random.Generator, days: int, low_volume: bool) -> LabelledSeries:
    kind = str(rng.choice(["count", "amount", "rate"]))
    units = rng.uniform(3, 12) if low_volume else float(np.exp(rng.uniform(np.log(40), np.log(4000))))
    weekly = np.exp(rng.uniform(0.1, 0.35) * rng.standard_normal(7))
    weekly /= weekly.mean()
    trend = rng.uniform(-0.3, 0.3)
    effect = np.ones(days)
    shocks: list[list[int]] = []
    if not low_volume:
        for start in sorted(rng.choice(np.arange(WARMUP_DAYS, days - 3), rng.poisson(3), replace=False)):
            if any(start <= s[-1] + 7 for s in shocks):
                continue
            length = int(rng.integers(1, 4))
            drop = rng.random() < 0.5
            effect[start:start + length] = rng.uniform(0.3, 0.65) if drop else rng.uniform(1.6, 2.5)
            shocks.append(list(range(start, start + length)))
    series = {}
    for t in range(days):
        mean = units * weekly[t % 7] * (1 + trend * t / 365)
        if kind == "rate":  # volume: messages; value: share that unsubscribed (1% base)
            volume = max(1, int(rng.poisson(mean * 20)))
            value = rng.binomial(volume, min(1.0, 0.01 * effect[t])) / volume
        else:
            volume = int(rng.poisson(mean * effect[t]))
            value = float(volume if kind == "count" else (rng.lognormal(3.5, 0.6, volume).sum()))
        series[START + timedelta(days=t)] = Point(value, volume)
    return LabelledSeries(kind, series, [[START + timedelta(days=t) for t in s] for s in shocks])


def generate(n_series: int = 300, days: int = 364, seed: int = 7, low_volume_share: float = 0.15,
             ) -> list[LabelledSeries]:
    rng = np.random.default_rng(seed)
    return [_series(rng, days, rng.random() < low_volume_share) for _ in range(n_series)]


@dataclass(frozen=True)
class Evaluation:
    recall: float  # share of shocked days flagged
    episode_recall: float  # share of shocks with at least one day flagged
    false_alerts_per_100: float  # flagged days without a shock per 100 KPI-days without one
    kpi_days: int


def evaluate(flag: Callable[[Mapping[date, Point]], set[date]], data: list[LabelledSeries]) -> Evaluation:
    """Run `flag` (series -> the days it alerts on) over every series; score days after the warm-up."""
    first = START + timedelta(days=WARMUP_DAYS)
    hits = shocked = episodes_hit = episodes = false = quiet = 0
    for item in data:
        flagged = {d for d in flag(item.series) if d >= first}
        labelled = {d for s in item.shocks for d in s}
        hits += len(flagged & labelled)
        shocked += len(labelled)
        episodes += len(item.shocks)
        episodes_hit += sum(1 for s in item.shocks if flagged & set(s))
        false += len(flagged - labelled)
        quiet += sum(1 for d in item.series if d >= first and d not in labelled)
    return Evaluation(hits / shocked, episodes_hit / episodes, 100 * false / quiet, quiet + shocked)
