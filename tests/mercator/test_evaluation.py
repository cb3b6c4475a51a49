"""Pairwise precision/recall (counted in DuckDB) against brute-force pair enumeration."""

from __future__ import annotations

import itertools
import random

import duckdb
import pandas as pd
from mercator.evaluation import pairwise_score


def _brute(records):
    pairs = list(itertools.combinations(records, 2))
    pred = {(a[0], b[0]) for a, b in pairs if a[1] is not None and a[1] == b[1]}
    true = {(a[0], b[0]) for a, b in pairs if a[2] == b[2]}
    return len(pred & true) / len(pred), len(pred & true) / len(true)


def _score(records):
    con = duckdb.connect()
    frame = pd.DataFrame(records, columns=["idx", "predicted", "true_group"])
    con.register("records", frame)
    return pairwise_score(con, "records", "predicted", "true_group")


def test_matches_brute_force_on_random_groupings():
    rng = random.Random(3)
    records = [(f"r{i}", rng.choice(["a", "b", "c", None]), rng.choice(["x", "y"])) for i in range(60)]
    score = _score(records)
    precision, recall = _brute(records)
    assert (score.precision, score.recall) == (precision, recall)


def test_perfect_and_unlinked_groupings():
    truth = [("1", "p", "p"), ("2", "p", "p"), ("3", "q", "q")]
    assert _score(truth).precision == _score(truth).recall == 1.0
    unlinked = _score([(r, None, t) for r, _, t in truth])
    assert unlinked.recall == 0.0 and unlinked.predicted_pairs == 0
