"""The raw gate warns, naming the inputs, when neither orders nor store sales were delivered."""

from __future__ import annotations

from mercator.extract.schema import DELIVERIES_DDL
from mercator.quality import gate, run_suites

from tests.mercator.quality.warehouses import AS_OF, GOOD_CONTACTS, GOOD_ORDERS, make_warehouse

CONTACTS_DELIVERED = (
    "insert into raw._deliveries (source, entity, file, rows_in, rows_loaded, rows_quarantined)"
    " values ('crm', 'contacts', 'crm/contacts/contacts.csv', 50, 50, 0)"
)
ENTITIES = ("shop/orders", "pos/transactions", "crm/contacts")


def test_a_landing_without_sales_passes_with_a_warning_naming_them(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", DELIVERIES_DDL, CONTACTS_DELIVERED, GOOD_CONTACTS,
                               entities=ENTITIES)

    (result,) = run_suites(warehouse, ["raw_deliveries"], None, project, as_of=AS_OF)
    gate([result])

    assert result.status == "passed_with_warnings"
    (warning,) = result.warnings
    assert "shop/orders" in warning and "pos/transactions" in warning


def test_orders_alone_are_sales_enough(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", DELIVERIES_DDL, CONTACTS_DELIVERED, GOOD_CONTACTS,
                               GOOD_ORDERS, entities=ENTITIES)

    (result,) = run_suites(warehouse, ["raw_deliveries"], None, project, as_of=AS_OF)

    assert result.status == "passed", result.warnings
