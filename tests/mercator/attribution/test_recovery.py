import pandas as pd
import pytest
from mercator.attribution.recovery import share_distance, true_channel_shares


def test_single_channel_paths_get_their_lift_above_the_baseline():
    paths = pd.DataFrame({"path": ["a", "b"], "conversions": [5, 1], "non_conversions": [95, 299],
                          "conversion_value": [50.0, 10.0]})
    shares = true_channel_shares(paths, {"a": 0.2, "b": 0.1}, baseline=0.05)
    lift = pd.Series({"a": 100 * 0.95 * 0.2, "b": 300 * 0.95 * 0.1})
    pd.testing.assert_series_equal(shares, lift / lift.sum())


def test_a_shared_path_splits_by_shapley_value_of_the_conversion_model():
    paths = pd.DataFrame({"path": ["a > b > b"], "conversions": [1], "non_conversions": [0],
                          "conversion_value": [1.0]})
    shares = true_channel_shares(paths, {"a": 0.5, "b": 0.2}, baseline=0.0)
    v_a, v_b, v_ab = 0.5, 1 - 0.8**2, 1 - 0.5 * 0.8**2
    a = 0.5 * v_a + 0.5 * (v_ab - v_b)
    assert shares["a"] == pytest.approx(a / v_ab)
    assert share_distance(shares, pd.Series({"a": 1.0})) == pytest.approx(2 * (1 - a / v_ab))
