import contextlib
import io
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from mercator.attribution import attribute_paths, markov_attribution, parse_paths
from mercator.attribution.synthetic import simulate_paths

COLUMNS = ["path", "conversions", "non_conversions", "conversion_value"]


def frame(rows: list[tuple[str, int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def test_two_channel_removal_effects_match_the_absorbing_chain_worked_by_hand():
    # journeys: a (1 converts, 1 not), a > b (converts), b (does not).
    paths = parse_paths(frame([("a", 1, 1, 30.0), ("a > b", 1, 0, 50.0), ("b", 0, 1, 0.0)]))
    # start->a 3/4, start->b 1/4; a->conv, a->null, a->b 1/3 each; b->conv, b->null 1/2 each.
    start_a, start_b, a_conv, a_b, b_conv = (
        Fraction(3, 4),
        Fraction(1, 4),
        Fraction(1, 3),
        Fraction(1, 3),
        Fraction(1, 2),
    )
    p_conv = start_a * (a_conv + a_b * b_conv) + start_b * b_conv
    p_without_a = start_b * b_conv
    p_without_b = start_a * a_conv
    effect_a, effect_b = 1 - p_without_a / p_conv, 1 - p_without_b / p_conv

    result = markov_attribution(paths)

    assert result.conversion_probability == pytest.approx(float(p_conv))
    assert result.removal_effects == pytest.approx([float(effect_a), float(effect_b)])
    credits = result.credits.set_index("channel")["conversions"]
    assert credits["a"] == pytest.approx(float(2 * effect_a / (effect_a + effect_b)))
    assert credits["b"] == pytest.approx(float(2 * effect_b / (effect_a + effect_b)))


def test_value_removal_effects_weight_conversions_by_the_value_of_their_last_state():
    # a converts 3 of 6 at 10 each, a > b 1 of 2 at 90, b 1 of 4 at 90.
    paths = parse_paths(frame([("a", 3, 3, 30.0), ("a > b", 1, 1, 90.0), ("b", 1, 3, 90.0)]))
    start_a, start_b = Fraction(8, 12), Fraction(4, 12)
    a_b = Fraction(2, 8)
    a_value, b_value = Fraction(30, 8), Fraction(90 + 90, 2 + 4)  # converted value per journey leaving
    expected_value = start_a * (a_value + a_b * b_value) + start_b * b_value
    without_b = start_a * a_value

    result = markov_attribution(paths)

    assert result.value_removal_effects[1] == pytest.approx(float(1 - without_b / expected_value))
    shares = result.credits.set_index("channel")
    value_share_b = shares.loc["b", "revenue"] / shares["revenue"].sum()
    assert value_share_b > shares.loc["b", "conversions"] / shares["conversions"].sum()


def test_consecutive_repeats_of_a_channel_are_one_visit():
    repeated = markov_attribution(parse_paths(frame([("a > a > b", 2, 1, 20.0), ("b > b", 1, 4, 5.0)])))
    single = markov_attribution(parse_paths(frame([("a > b", 2, 1, 20.0), ("b", 1, 4, 5.0)])))
    pd.testing.assert_frame_equal(repeated.credits, single.credits)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_credits_sum_to_attributed_conversions_and_revenue(order):
    data = simulate_paths(5_000, n_channels=6, seed=order)
    data.loc[len(data)] = ["", 7, 3, 70.0]  # no channel: not attributable
    credits = attribute_paths(data, markov_orders=(order,))
    attributable = data[data["path"] != ""]
    for _, model in credits.groupby("model"):
        assert model["conversions"].sum() == pytest.approx(attributable["conversions"].sum(), rel=1e-12)
        assert model["revenue"].sum() == pytest.approx(attributable["conversion_value"].sum(), rel=1e-12)
        assert (model[["conversions", "revenue"]] >= 0).all().all()


def test_higher_order_chain_of_first_order_journeys_gives_similar_shares():
    paths = parse_paths(simulate_paths(50_000, n_channels=5, seed=4))
    first, second = (markov_attribution(paths, order).removal_effects for order in (1, 2))
    assert np.abs(first / first.sum() - second / second.sum()).max() < 0.02


def channel_attribution_shares(data: pd.DataFrame, order: int) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):
        reference = pytest.importorskip("ChannelAttribution", reason="ChannelAttribution is not installed")
        result = reference.markov_model(
            data,
            "path",
            "conversions",
            var_value="conversion_value",
            var_null="non_conversions",
            order=order,
            sep=">",
            nsim_start=1e6,
            max_step=200,
            seed=7,
            verbose=False,
            flg_pro=False,
        )
    shares = result.set_index("channel_name")[["total_conversions", "total_conversion_value"]]
    return shares / shares.sum()


@pytest.mark.parametrize("order", [1, 2])
def test_markov_agrees_with_channel_attribution_within_one_point(order):
    data = simulate_paths(30_000, n_channels=8, seed=11)
    expected = channel_attribution_shares(data, order)
    credits = markov_attribution(parse_paths(data), order).credits.set_index("channel")
    ours = credits[["conversions", "revenue"]] / credits[["conversions", "revenue"]].sum()
    ours = ours.loc[expected.index]
    assert np.abs(ours["conversions"] - expected["total_conversions"]).max() < 0.01
    assert np.abs(ours["revenue"] - expected["total_conversion_value"]).max() < 0.01
