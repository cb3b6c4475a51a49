import numpy as np
import pandas as pd
import pytest
from mercator.attribution.paths import channel_sets, parse_paths


def frame(rows: list[tuple[str | None, int, int, float]], index: list[int] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["path", "conversions", "non_conversions", "conversion_value"], index=index
    )


def test_parse_splits_strips_and_keeps_order_and_counts():
    paths = parse_paths(frame([("email > paid_search >email", 2, 3, 40.0), ("direct", 0, 5, 0.0)]))
    assert paths.channels == ("email", "paid_search", "direct")
    assert paths.touches.tolist() == [0, 1, 0, 2]
    assert paths.offsets.tolist() == [0, 3, 4]
    assert paths.conversions.tolist() == [2, 0]
    assert paths.total_value == 40.0


def test_parse_drops_paths_that_cannot_be_attributed_and_remembers_input_rows():
    rows = [("", 4, 1, 10.0), (None, 1, 0, 5.0), ("sms", 0, 0, 0.0), ("push > sms", 1, 1, 7.0)]
    paths = parse_paths(frame(rows, index=[10, 11, 12, 13]))
    assert paths.rows.tolist() == [13]
    assert paths.channels == ("push", "sms")
    assert paths.total_conversions == 1


def test_parse_rejects_frames_without_the_path_columns():
    with pytest.raises(ValueError, match="non_conversions"):
        parse_paths(pd.DataFrame({"path": ["a"], "conversions": [1], "conversion_value": [1.0]}))


def test_channel_sets_are_bitmasks_of_distinct_channels():
    paths = parse_paths(frame([("a > b > a", 1, 0, 1.0), ("c", 1, 0, 1.0), ("b > c > b", 0, 1, 0.0)]))
    expected = [
        sum(1 << paths.channels.index(name) for name in set(path.split(" > ")))
        for path in ("a > b > a", "c", "b > c > b")
    ]
    assert channel_sets(paths).tolist() == expected
    assert channel_sets(paths).dtype == np.int64
