from itertools import permutations
from math import factorial

import numpy as np
import pandas as pd
import pytest
from mercator.attribution import allocate_to_paths, parse_paths, shapley_attribution
from mercator.attribution.shapley import coalition_values, shapley_values
from mercator.attribution.synthetic import simulate_paths

COLUMNS = ["path", "conversions", "non_conversions", "conversion_value"]


def by_permutations(values: np.ndarray, n_players: int) -> np.ndarray:
    """Shapley values from the definition: mean marginal contribution over all join orders."""
    result = np.zeros(n_players)
    for order in permutations(range(n_players)):
        coalition = 0
        for player in order:
            result[player] += values[coalition | 1 << player] - values[coalition]
            coalition |= 1 << player
    return result / factorial(n_players)


def test_shapley_values_match_the_permutation_definition_on_an_arbitrary_game():
    values = np.random.default_rng(1).uniform(0, 10, 2**5)
    values[0] = 0
    assert shapley_values(values) == pytest.approx(by_permutations(values, 5))


def test_coalition_values_add_up_paths_whose_channel_set_is_inside_the_coalition():
    masks, weights = np.array([0b001, 0b011, 0b110, 0b011]), np.array([1.0, 2.0, 4.0, 8.0])
    values = coalition_values(masks, weights, 3)
    expected = [sum(w for m, w in zip(masks, weights, strict=True) if m & s == m) for s in range(8)]
    assert values.tolist() == expected


def test_shapley_axioms_on_path_data():
    data = pd.DataFrame(
        [
            ("a > b", 4, 2, 80.0),
            ("b > a", 2, 1, 40.0),
            ("c", 3, 5, 90.0),
            ("a > c", 1, 0, 10.0),
            ("b > c", 1, 0, 10.0),
            ("d", 0, 9, 0.0),  # converts nothing on its own and never joins a converting path
        ],
        columns=COLUMNS,
    )
    credits = shapley_attribution(parse_paths(data)).set_index("channel")
    assert credits["conversions"].sum() == pytest.approx(data["conversions"].sum())  # efficiency
    assert credits["revenue"].sum() == pytest.approx(data["conversion_value"].sum())
    assert credits.loc["a", "conversions"] == pytest.approx(credits.loc["b", "conversions"])  # symmetry
    assert credits.loc["d", "conversions"] == 0  # null player
    assert credits.loc["d", "revenue"] == 0


def test_shapley_credits_equal_the_equal_split_of_each_path_over_its_distinct_channels():
    paths = parse_paths(simulate_paths(20_000, n_channels=7, seed=2))
    equal = np.ones(len(paths.channels))
    per_path = allocate_to_paths(paths, equal, equal).groupby("channel")[["conversions", "revenue"]].sum()
    credits = shapley_attribution(paths).set_index("channel")[["conversions", "revenue"]]
    pd.testing.assert_frame_equal(credits.sort_index(), per_path.sort_index(), check_names=False)


def test_shapley_refuses_more_channels_than_it_can_enumerate():
    data = pd.DataFrame(
        {"path": [" > ".join(f"c{i}" for i in range(21))], "conversions": [1], "non_conversions": [0]}
    ).assign(conversion_value=1.0)
    with pytest.raises(ValueError, match="coalitions"):
        shapley_attribution(parse_paths(data))
