"""Erasure across runs: an erased person keeps a row without personal data, whatever later data links."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mercator.dbt.identity_fixtures import copy_project, load_raw, query, run_dbt

pytestmark = pytest.mark.dag_runs(1)  # four dbt builds in a row, about a DAG run's cost: start early, not last

MY_MODELS = "+dim_customers +int_erasure_requests +int_erased_identifiers"
ANN = "ann@example.com"
PERSONAL = "email, phone, first_name, last_name, country, city, birth_date"


def _order(order_id: str, customer_id: str, email: str) -> dict:
    return {"order_id": order_id, "customer_id": customer_id, "email": email,
            "ordered_at": "2025-03-01 10:00:00+00", "total_amount": 10}


def _contact(contact_id: str, phone: str, updated_at: str, email: str = ANN) -> dict:
    return {"contact_id": contact_id, "email": email, "phone": phone, "first_name": "Ann", "last_name": "Lee",
            "country": "US", "city": "Austin", "birth_date": "1980-01-01", "updated_at": updated_at,
            "email_consent": "granted", "ads_consent": "granted"}


def _customers(warehouse: Path) -> dict[str, tuple]:
    """customer_id -> (is_erased, personal columns...) of the dim_customers row holding it."""
    rows = query(warehouse, f"""
        select ids.identifier_value, dim.is_erased, {PERSONAL}
        from marts.dim_customers as dim
        inner join intermediate.int_identity_customer_identifiers as ids using (customer_key)
        where ids.identifier_type = 'customer_id'""")
    return {row[0]: row[1:] for row in rows}


def test_an_erased_person_stays_erased_when_later_data_relinks_or_splits_their_records(tmp_path: Path) -> None:
    project, warehouse = copy_project(tmp_path), tmp_path / "warehouse.duckdb"

    def build(rows: dict[str, list[dict]], loaded_at: str) -> dict[str, tuple]:
        load_raw(warehouse, rows, loaded_at=loaded_at)
        run_dbt(project, warehouse, "build", "--select", MY_MODELS,
                "--exclude", "resource_type:test", "resource_type:unit_test")
        return _customers(warehouse)

    erased = (True, None, None, None, None, None, None, None)
    first = build({
        "shop/orders": [_order("o-ann", "cus-ann", ANN), _order("o-bob", "cus-bob", "bob@example.com")],
        "crm/contacts": [{**_contact("k-ann", "+1 512 555 0101", "2025-01-01"), "customer_id": "cus-ann"}],
        "crm/erasure_requests": [
            {"request_id": "r-ann", "email": f" {ANN.upper()}", "requested_at": "2025-06-01T00:00:00Z"},
            {"request_id": "r-nobody", "phone": "(512) 555-0199", "requested_at": "2025-06-01T00:00:00Z"},
        ],
    }, "2025-06-02")
    assert first["cus-ann"] == erased
    assert first["cus-bob"][:2] == (False, "bob@example.com")
    [(ann_key,)] = query(warehouse, "select customer_key from intermediate.int_erasure_requests "
                                    "where request_id = 'r-ann'")
    assert query(warehouse, "select request_id, customer_key, identifier_type, identifier_value "
                            "from intermediate.int_erasure_requests order by request_id") == [
        ("r-ann", ann_key, "email", ANN), ("r-nobody", None, "phone", "+15125550199")]
    [(erased_row_count,)] = query(warehouse, "select count(*) from marts.dim_customers where is_erased")
    assert erased_row_count == 1

    # Later data: a new contact re-links Ann's email with a new phone and her name again.
    second = build({"crm/contacts": [_contact("k-ann-2", "+1 512 555 0102", "2025-07-01")]}, "2025-07-02")
    assert second["cus-ann"] == erased

    # Then four shoppers type Ann's address: it is shared, excluded from linking, and the request
    # no longer resolves; her records fall apart into her contact and her old order, both still
    # erased, and a new address she orders with is remembered too.
    shared = [_order(f"o-x{i}", f"cus-x{i}", ANN) for i in range(4)]
    third = build({"shop/orders": [*shared, _order("o-ann-2", "cus-ann", "ann.new@example.com")]}, "2025-08-02")
    assert query(warehouse, "select customer_key from intermediate.int_erasure_requests "
                            "where request_id = 'r-ann'") == [(None,)]
    assert third["cus-ann"] == erased
    phones = query(warehouse, """
        select dim.is_erased, dim.first_name from marts.dim_customers as dim
        inner join intermediate.int_identity_customer_identifiers as ids using (customer_key)
        where ids.identifier_value in ('+15125550101', '+15125550102')""")
    assert phones == [(True, None), (True, None)]
    assert all(third[f"cus-x{i}"][0] is False for i in range(4))
    assert third["cus-bob"][:2] == (False, "bob@example.com")

    # Finally her customer_id is shared too: the new address stands alone, and stays erased.
    fourth = build({"shop/orders": [_order(f"o-y{i}", "cus-ann", f"y{i}@example.com") for i in range(4)]},
                   "2025-09-02")
    assert _erased_by_email(warehouse) == {"ann.new@example.com": True, **{f"y{i}@example.com": False
                                                                          for i in range(4)}}
    assert fourth["cus-bob"][:2] == (False, "bob@example.com")


def _erased_by_email(warehouse: Path) -> dict[str, bool]:
    """is_erased of the customer holding each email of the latest orders (ann.new@, y0..y3@)."""
    return dict(query(warehouse, """
        select ids.identifier_value, dim.is_erased from marts.dim_customers as dim
        inner join intermediate.int_identity_customer_identifiers as ids using (customer_key)
        where ids.identifier_value like 'ann.new@%' or ids.identifier_value like 'y_@%'"""))
