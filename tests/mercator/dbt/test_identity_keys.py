"""Customer keys stay stable across runs; a merge keeps the oldest key and is logged."""

from __future__ import annotations

import hashlib
from itertools import count
from pathlib import Path

import pytest

from tests.mercator.dbt.identity_fixtures import copy_project, load_raw, query, run_dbt

pytestmark = pytest.mark.dag_runs(1)  # four dbt builds in a row, about a DAG run's cost: start early, not last

MY_MODELS = "+dim_customers +customer_identities +customer_key_merges"


def _new_key(customer_id: str) -> str:
    """The key of a new customer whose smallest identifier is this customer_id."""
    return hashlib.md5(f"customer_id:{customer_id}".encode()).hexdigest()


def _younger_with_smaller_key(older: str) -> str:
    """A customer id whose new key sorts before `older`'s, so only age can make `older` survive."""
    return next(f"b{i}" for i in count() if _new_key(f"b{i}") < _new_key(older))


def _order(order_id: str, customer_id: str, email: str | None = None) -> dict:
    return {"order_id": order_id, "customer_id": customer_id, "email": email,
            "ordered_at": "2025-03-01 10:00:00+00", "total_amount": 10}


def _keys(warehouse: Path) -> dict[str, str]:
    rows = query(warehouse, "select identifier_value, customer_key from marts.customer_identities")
    return dict(rows)


def test_keys_survive_new_data_and_merges_keep_the_oldest(tmp_path: Path) -> None:
    project, warehouse = copy_project(tmp_path), tmp_path / "warehouse.duckdb"
    younger = _younger_with_smaller_key("a")

    def build(orders: list[dict], loaded_at: str) -> dict[str, str]:
        load_raw(warehouse, {"shop/orders": orders}, loaded_at=loaded_at)
        run_dbt(project, warehouse, "build", "--select", MY_MODELS,
                "--exclude", "resource_type:test", "resource_type:unit_test")
        return _keys(warehouse)

    first = build([_order("o-a", "a", "a@x.com"), _order("o-z", "z", "z@x.com")], "2026-01-01")
    assert first["a"] == first["a@x.com"] == _new_key("a")

    second = build([_order("o-b", younger, "b@x.com")], "2026-01-02")
    assert second["a"] == first["a"] and second["z"] == first["z"]
    assert second[younger] == _new_key(younger) != second["a"]

    third = build([_order("o-ab", younger, "a@x.com"), _order("o-n", "n")], "2026-01-03")
    assert {third[v] for v in ("a", "a@x.com", younger, "b@x.com")} == {first["a"]}
    assert third["z"] == first["z"] and third["n"] == _new_key("n")
    merges = query(warehouse, "select absorbed_key, survivor_key from marts.customer_key_merges")
    assert merges == [(second[younger], first["a"])]

    fourth = build([], "2026-01-04")
    assert fourth == third
    assert query(warehouse, "select count(*) from marts.customer_key_merges") == [(1,)]
    dim_keys = {key for (key,) in query(warehouse, "select customer_key from marts.dim_customers")}
    assert dim_keys == {first["a"], first["z"], third["n"]}
