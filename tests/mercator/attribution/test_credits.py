import numpy as np
import pandas as pd
import pytest
from mercator.attribution import allocate_to_paths, markov_attribution, parse_paths
from mercator.attribution.credits import apportion
from mercator.attribution.synthetic import simulate_paths


def test_apportion_splits_in_proportion_and_adds_up_to_the_total():
    weights = np.random.default_rng(3).uniform(0, 1, 17)
    parts = apportion(weights, 1234.567)
    assert parts.sum() == 1234.567
    assert parts / parts.sum() == pytest.approx(weights / weights.sum())
    assert apportion(np.zeros(3), 10.0).tolist() == [0, 0, 0]


def test_per_path_allocation_keeps_each_paths_totals_and_follows_removal_effects():
    data = simulate_paths(10_000, n_channels=6, seed=9)
    paths = parse_paths(data)
    result = markov_attribution(paths)
    allocation = allocate_to_paths(paths, result.removal_effects, result.value_removal_effects)

    per_row = allocation.groupby("row")[["conversions", "revenue"]].sum()
    pd.testing.assert_series_equal(
        per_row["conversions"], data.loc[per_row.index, "conversions"].astype(float), check_names=False
    )
    pd.testing.assert_series_equal(
        per_row["revenue"], data.loc[per_row.index, "conversion_value"], check_names=False
    )
    effect = allocation["channel"].map(dict(zip(paths.channels, result.removal_effects, strict=True)))
    share = effect / effect.groupby(allocation["row"]).transform("sum")
    expected = data.loc[allocation["row"], "conversions"].to_numpy() * share.to_numpy()
    assert allocation["conversions"].to_numpy() == pytest.approx(expected)
    assert allocation["row"].nunique() == len(data)
