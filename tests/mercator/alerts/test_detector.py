"""The same-weekday detector: its rules on hand-made series, and the benchmark's goal on synthetic ones."""

from __future__ import annotations

from datetime import date, timedelta

from mercator.alerts.detector import DetectorConfig, Point, scan, score_day
from mercator.alerts.run import alert_text
from mercator.alerts.synthetic import evaluate, generate

MONDAY = date(2026, 1, 5)
WEEKLY = (100.0, 80.0, 90.0, 110.0, 150.0, 200.0, 60.0)  # Monday..Sunday


def weekly_series(weeks: int, noise: float = 0.03) -> dict[date, Point]:
    return {MONDAY + timedelta(days=t): Point(WEEKLY[t % 7] * (1 + noise * ((t * 7919) % 5 - 2) / 2), 100)
            for t in range(7 * weeks)}


def test_a_seasonal_week_raises_nothing_and_a_drop_is_flagged_with_its_range() -> None:
    series = weekly_series(10)
    last = max(series)
    assert not any(s.anomaly for s in scan(series).values())
    series[last] = Point(WEEKLY[last.weekday()] * 0.5, 100)
    score = scan(series)[last]
    assert score.anomaly and score.low < score.expected < score.high
    assert abs(score.expected - WEEKLY[last.weekday()]) < 0.05 * WEEKLY[last.weekday()]
    assert score.deviation < -0.4


def test_the_scored_day_is_not_in_its_own_baseline() -> None:
    day = MONDAY + timedelta(weeks=6)
    history = {MONDAY + timedelta(weeks=k): Point(100.0, 100) for k in range(6)}
    history[day] = Point(1000.0, 100)  # if the day were its own baseline, the median would move
    assert score_day(day, history[day], history, DetectorConfig()).expected == 100.0


def test_short_history_low_volume_and_small_moves_raise_nothing() -> None:
    day = MONDAY + timedelta(weeks=3)
    short = {MONDAY + timedelta(weeks=k): Point(100.0, 100) for k in range(3)}
    assert score_day(day, Point(10.0, 100), short, DetectorConfig()).reason == "short_history"
    thin = {MONDAY + timedelta(weeks=k): Point(5.0, 5) for k in range(8)}
    assert score_day(day + timedelta(weeks=5), Point(1.0, 1), thin, DetectorConfig()).reason == "low_volume"
    flat = {MONDAY + timedelta(weeks=k): Point(100.0, 100) for k in range(8)}
    small = score_day(MONDAY + timedelta(weeks=8), Point(115.0, 100), flat, DetectorConfig(min_spread=0.01))
    assert small.scored and not small.high >= 115.0 and not small.anomaly  # outside the range, under 20%


def test_a_rise_from_an_expected_zero_is_flagged_and_worded_without_a_relative_change() -> None:
    day = MONDAY + timedelta(weeks=6)
    zeros = {MONDAY + timedelta(weeks=k): Point(0.0, 500) for k in range(6)}
    score = score_day(day, Point(0.02, 500), zeros, DetectorConfig())
    assert score.anomaly and score.expected == 0 and score.deviation is None
    text = alert_text("unsubscribe_rate", "email", score, "dashboard.html#kpi-unsubscribe_rate")
    assert "2.00%, above its expected range 0.00% to 0.00% (0.00% expected)" in text


def test_an_anomalous_day_stays_out_of_later_baselines() -> None:
    series = {MONDAY + timedelta(weeks=k): Point(100.0, 100) for k in range(12)}
    for k in range(6, 9):  # three shocked Mondays in a row
        series[MONDAY + timedelta(weeks=k)] = Point(300.0, 100)
    scores = scan(series)
    assert [scores[MONDAY + timedelta(weeks=k)].anomaly for k in range(6, 9)] == [True] * 3
    assert scores[MONDAY + timedelta(weeks=9)].expected == 100.0


def test_benchmark_recall_and_false_alert_rate() -> None:
    """bench/bench_alerts.py's goal on a smaller draw: recall >= 0.8 at <= 3 false alerts per 100 KPI-days."""
    result = evaluate(lambda s: {d for d, score in scan(s).items() if score.anomaly}, generate(120, seed=3))
    assert result.recall >= 0.8 and result.episode_recall >= 0.8
    assert result.false_alerts_per_100 <= 3.0
