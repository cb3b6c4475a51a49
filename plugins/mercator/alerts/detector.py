"""Score a daily KPI series against a same-weekday baseline.

A day is compared with the same weekday of the `weeks` weeks before it (the day itself never in its
own baseline). The expected value is their median, the expected range median +- `z` robust standard
deviations of the series' noise: 1.4826 x the median absolute relative error of the series' recent
scored days (every weekday, `weeks` weeks back, each against its own baseline) once there are
`min_history` x 7 of them, else 1.4826 x the same-weekday MAD; floored at `min_spread` of the median.
Pooling the weekdays' errors gives a steadier range than 4 to 8 points of one weekday. A day is an
anomaly when it falls outside that range AND moves at least `min_relative_change` from the median; it
is not scored with fewer than `min_history` baseline days or a baseline volume (median) under
`min_volume`. Anomalous days are left out of every later baseline and of the pooled errors, so a shock
does not widen the range that judges the next.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DetectorConfig:
    weeks: int = 8
    min_history: int = 4
    z: float = 3.0
    min_relative_change: float = 0.2
    min_volume: float = 20.0
    min_spread: float = 0.05


DEFAULT_CONFIG = DetectorConfig()


@dataclass(frozen=True)
class Point:
    value: float | None
    volume: float


@dataclass(frozen=True)
class Score:
    day: date
    observed: float | None
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    anomaly: bool = False
    reason: str = ""  # why the day was not scored: no_value, short_history, low_volume

    @property
    def scored(self) -> bool:
        return self.expected is not None and not self.reason

    @property
    def deviation(self) -> float | None:
        """Relative change from the expected value (None when not scored or the expectation is 0)."""
        if not self.scored or self.observed is None or not self.expected:
            return None
        return (self.observed - self.expected) / abs(self.expected)


def score_day(day: date, point: Point, history: Mapping[date, Point], config: DetectorConfig,
              noise: float | None = None) -> Score:
    """Score one day against `history` (earlier days; anomalies already left out); `noise` is the
    series' relative robust standard deviation when known (scan pools it), else the baseline's MAD."""
    if point.value is None:
        return Score(day, None, reason="no_value")
    same_weekday = [history.get(day - timedelta(weeks=k)) for k in range(1, config.weeks + 1)]
    baseline = [p for p in same_weekday if p is not None and p.value is not None]
    if len(baseline) < config.min_history:
        return Score(day, point.value, reason="short_history")
    values = [p.value for p in baseline]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    relative = noise if noise is not None else 1.4826 * mad / abs(median) if median else 0.0
    spread = max(relative, config.min_spread) * abs(median)
    low, high = median - config.z * spread, median + config.z * spread
    if statistics.median(p.volume for p in baseline) < config.min_volume:
        return Score(day, point.value, median, low, high, reason="low_volume")
    moved = abs(point.value - median) >= config.min_relative_change * abs(median)
    return Score(day, point.value, median, low, high, anomaly=moved and not low <= point.value <= high)


def scan(series: Mapping[date, Point], config: DetectorConfig = DEFAULT_CONFIG) -> dict[date, Score]:
    """Score every day in date order; a day found anomalous is left out of the later baselines and of the
    pooled noise."""
    history: dict[date, Point] = {}
    errors: dict[date, float] = {}  # relative error of each scored, normal day against its baseline
    scores: dict[date, Score] = {}
    for day in sorted(series):
        recent = [e for d, e in errors.items() if d >= day - timedelta(weeks=config.weeks)]
        noise = 1.4826 * statistics.median(recent) if len(recent) >= 7 * config.min_history else None
        score = scores[day] = score_day(day, series[day], history, config, noise)
        if score.anomaly:
            continue
        history[day] = series[day]
        if score.expected and score.observed is not None:
            errors[day] = abs(score.observed - score.expected) / abs(score.expected)
    return scores
