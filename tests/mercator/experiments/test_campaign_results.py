"""marts.campaign_results from a real DuckDB warehouse: assignments as activation records them, orders
as fct_orders holds them, a known effect recovered, windows counted in data time."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from mercator.activation import state
from mercator.experiments.campaigns import RESULTS, group_statistics, write_campaign_results

SEND = date(2026, 10, 1)
WINDOW = 14
MEMBERS = 20_000
HOLDOUT = 0.10
RATES = {"treatment": 0.10, "holdout": 0.06}  # conversion within the window
COSTS = {"email": 0.001}


def _warehouse(path, as_of: date) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    state.ensure(con)
    con.execute("create schema marts")
    con.execute("create table marts.customer_rfm (customer_key varchar, as_of date)")
    con.execute("insert into marts.customer_rfm values ('c0', ?)", [as_of])
    con.execute("""create table marts.fct_orders (customer_key varchar, ordered_at timestamptz,
                   net_amount_reporting decimal(18, 2), is_countable boolean)""")
    return con


def _assign(con, frame: pd.DataFrame) -> None:
    con.register("assigned", frame)
    con.execute(
        """insert into activation.assignments
                   (run_id, audience, customer_key, assignment, would_send, bucket, assigned_at, as_of, channel,
                    holdout_share)
                   select run_id, audience, customer_key, assignment, true, 0.5, assigned_at, as_of, 'email', ?
                   from assigned""",
        [HOLDOUT],
    )
    con.unregister("assigned")


def _orders(con, frame: pd.DataFrame) -> None:
    con.register("placed", frame)
    con.execute("insert into marts.fct_orders select customer_key, ordered_at, amount, countable from placed")
    con.unregister("placed")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """One send to MEMBERS with a known conversion effect, orders before, in and after its window
    (and some not countable), then the results table."""
    rng = np.random.default_rng(7)
    con = _warehouse(tmp_path_factory.mktemp("campaigns") / "wh.duckdb", SEND + timedelta(days=30))
    keys = [f"c{i}" for i in range(MEMBERS)]
    groups = np.where(rng.random(MEMBERS) < HOLDOUT, "holdout", "treatment")
    _assign(
        con,
        pd.DataFrame(
            {
                "run_id": "r1",
                "audience": "winback",
                "customer_key": keys,
                "assignment": groups,
                "assigned_at": pd.Timestamp("2026-10-01 06:00", tz="UTC"),
                "as_of": SEND,
            }
        ),
    )
    converts = rng.random(MEMBERS) < np.vectorize(RATES.get)(groups)
    day = rng.integers(1, WINDOW + 1, MEMBERS)
    orders = pd.DataFrame(
        {
            "customer_key": np.array(keys)[converts],
            "ordered_at": [pd.Timestamp(SEND + timedelta(days=int(d)), tz="UTC") for d in day[converts]],
            "amount": rng.gamma(2, 25, converts.sum()).round(2),
            "countable": True,
        }
    )
    outside = pd.DataFrame(
        {
            "customer_key": rng.choice(keys, 3000),
            "ordered_at": [
                pd.Timestamp(SEND + timedelta(days=int(d)), tz="UTC") for d in rng.choice([-40, -13, 0, 15, 20], 3000)
            ],
            "amount": 30.0,
            "countable": rng.random(3000) < 0.9,
        }
    )
    _orders(con, pd.concat([orders, outside]))
    write_campaign_results(con, COSTS, WINDOW)
    yield con, groups, orders, outside
    con.close()


def _row(con, audience: str = "winback") -> dict:
    frame = con.execute(f"select * from {RESULTS} where audience = ?", [audience]).df()
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_group_sums_equal_a_per_member_computation(simulated) -> None:
    con, groups, orders, outside = simulated
    every = pd.concat([orders, outside[outside.countable]])
    days = (every.ordered_at.dt.date - SEND).map(lambda d: d.days)
    member = pd.DataFrame({"customer_key": [f"c{i}" for i in range(MEMBERS)], "assignment": groups})
    y = every[(days > 0) & (days <= WINDOW)].groupby("customer_key").amount.sum()
    x = every[(days > -WINDOW) & (days <= 0)].groupby("customer_key").amount.sum()
    member["y"] = member.customer_key.map(y).fillna(0).astype(float)
    member["x"] = member.customer_key.map(x).fillna(0).astype(float)
    member["converted"] = member.customer_key.isin(every[(days > 0) & (days <= WINDOW)].customer_key)
    stats = group_statistics(con, WINDOW).set_index("assignment")
    for name, part in member.groupby("assignment"):
        got = stats.loc[name]
        assert got.members == len(part) and got.conversions == part.converted.sum()
        assert got.revenue == pytest.approx(part.y.sum(), rel=1e-12)
        assert got.revenue_sq == pytest.approx((part.y**2).sum(), rel=1e-12)
        assert got.pre_revenue == pytest.approx(part.x.sum(), rel=1e-12)
        assert got.revenue_x_pre == pytest.approx((part.x * part.y).sum(), rel=1e-12)


def test_the_known_conversion_effect_is_inside_the_interval(simulated) -> None:
    row = _row(simulated[0])
    truth = RATES["treatment"] - RATES["holdout"]
    assert row["conversion_lift_low"] < truth < row["conversion_lift_high"]
    assert row["conversion_lift_low"] > 0 and row["verdict"] == "positive"
    assert row["treatment_members"] + row["holdout_members"] == MEMBERS
    assert row["is_valid"] and row["srm_p_value"] > 0.001
    assert row["window_complete"] and row["send_date"] == pd.Timestamp(SEND)
    assert row["cost"] == pytest.approx(COSTS["email"] * row["treatment_members"])


def test_an_order_on_the_send_date_is_before_it_and_the_window_ends_on_its_last_day(tmp_path) -> None:
    con = _warehouse(tmp_path / "wh.duckdb", SEND + timedelta(days=WINDOW - 1))
    _assign(
        con,
        pd.DataFrame(
            {
                "run_id": "r1",
                "audience": "welcome",
                "customer_key": ["a", "b", "c"],
                "assignment": ["treatment", "treatment", "holdout"],
                "assigned_at": pd.Timestamp("2026-10-01 06:00", tz="UTC"),
                "as_of": SEND,
            }
        ),
    )
    _orders(
        con,
        pd.DataFrame(
            {
                "customer_key": ["a", "b", "c"],
                "amount": [10.0, 20.0, 40.0],
                "countable": True,
                "ordered_at": [pd.Timestamp(SEND + timedelta(days=d), tz="UTC") for d in (0, WINDOW, WINDOW + 1)],
            }
        ),
    )
    write_campaign_results(con, COSTS, WINDOW)
    row = _row(con, "welcome")
    assert (row["treatment_conversions"], row["treatment_revenue"]) == (1, 20.0)
    assert (row["holdout_conversions"], row["holdout_revenue"]) == (0, 0.0)
    assert not row["window_complete"]  # the as-of date is the window's second-to-last day
    assert row["verdict"] == "under-powered"


def test_members_count_in_the_group_and_send_of_their_first_assignment(tmp_path) -> None:
    con = _warehouse(tmp_path / "wh.duckdb", SEND + timedelta(days=60))
    first = pd.DataFrame(
        {
            "run_id": "r1",
            "audience": "winback",
            "customer_key": ["a", "b"],
            "assignment": ["holdout", "treatment"],
            "assigned_at": pd.Timestamp("2026-10-01 06:00", tz="UTC"),
            "as_of": SEND,
        }
    )
    later = pd.DataFrame(
        {
            "run_id": "r2",
            "audience": "winback",
            "customer_key": ["a", "c"],
            "assignment": ["treatment", "treatment"],
            "assigned_at": pd.Timestamp("2026-10-20 06:00", tz="UTC"),
            "as_of": SEND + timedelta(days=19),
        }
    )
    _assign(con, pd.concat([first, later]))
    write_campaign_results(con, COSTS, WINDOW)
    rows = con.execute(f"select send_date, treatment_members, holdout_members from {RESULTS} order by 1").fetchall()
    assert [(d, t, h) for d, t, h in rows] == [(SEND, 1, 1), (SEND + timedelta(days=19), 1, 0)]


def test_without_assignments_the_table_exists_and_is_empty(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    assert write_campaign_results(con, COSTS) == 0
    columns = {c for (c,) in con.execute(f"select column_name from (describe {RESULTS})").fetchall()}
    assert {"audience", "send_date", "conversion_lift_low", "srm_p_value", "verdict"} <= columns


def test_assignments_of_an_older_warehouse_gain_the_send_columns(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("create schema activation")
    con.execute("""create table activation.assignments (run_id varchar, audience varchar, customer_key varchar,
                   assignment varchar, would_send boolean, bucket double, assigned_at timestamptz)""")
    state.ensure(con)
    columns = {c for (c,) in con.execute("select column_name from (describe activation.assignments)").fetchall()}
    assert {"as_of", "channel", "holdout_share"} <= columns
