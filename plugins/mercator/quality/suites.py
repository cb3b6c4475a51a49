"""The quality suites as data: which table each checks and what it expects.

Every expectation carries a severity: a failed `critical` one stops the run (the
gate raises), a failed `warning` one is reported and the run goes on. Accepted
values come from the landing contract, never from a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mercator.contract import CONSENT, entity

CRITICAL = "critical"
WARNING = "warning"


@dataclass(frozen=True)
class Check:
    """One GX expectation: its class name in `gx.expectations`, its arguments and severity."""

    expectation: str
    kwargs: dict = field(default_factory=dict)
    severity: str = CRITICAL


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    table: str
    checks: tuple[Check, ...]
    entity_path: str | None = None  # raw suites: the landing entity whose deliveries fill the table

    @property
    def query(self) -> str:
        return f"select * from {self.table}"


def _not_null(column: str, severity: str = CRITICAL) -> Check:
    return Check("ExpectColumnValuesToNotBeNull", {"column": column}, severity)


def _in_set(column: str, values: tuple[str, ...], severity: str) -> Check:
    return Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)}, severity)


def _at_least(column: str, minimum: float, severity: str) -> Check:
    return Check("ExpectColumnValuesToBeBetween", {"column": column, "min_value": minimum}, severity)


def _not_before(later: str, earlier: str, severity: str) -> Check:
    return Check(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": later,
            "column_B": earlier,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        severity,
    )


_HAS_ROWS = Check("ExpectTableRowCountToBeBetween", {"min_value": 1})
_ORDERS = entity("shop/orders")
_CONTACTS = entity("crm/contacts")
_CONSENT_COLUMNS = ("email_consent", "sms_consent", "push_consent")

SUITES: dict[str, SuiteSpec] = {
    spec.name: spec
    for spec in (
        SuiteSpec(
            "raw_shop_orders",
            "raw.shop__orders",
            (
                _HAS_ROWS,
                _not_null("order_id"),
                _not_null("ordered_at"),
                _not_null("total_amount"),
                _at_least("total_amount", 0, CRITICAL),
                _in_set("status", _ORDERS.column("status").accepted, WARNING),
                _in_set("sales_channel", _ORDERS.column("sales_channel").accepted, WARNING),
                _at_least("discount_amount", 0, WARNING),
                _at_least("refunded_amount", 0, WARNING),
                _not_before("total_amount", "refunded_amount", WARNING),
                Check("ExpectColumnValueLengthsToEqual", {"column": "currency", "value": 3}, WARNING),
            ),
            entity_path=_ORDERS.path,
        ),
        SuiteSpec(
            "raw_crm_contacts",
            "raw.crm__contacts",
            (
                _HAS_ROWS,
                _not_null("contact_id"),
                _not_null("updated_at"),
                *(_in_set(c, _CONTACTS.column(c).accepted, CRITICAL) for c in _CONSENT_COLUMNS),
                _not_before("updated_at", "created_at", WARNING),
            ),
            entity_path=_CONTACTS.path,
        ),
        SuiteSpec(
            "marts_dim_customers",
            "marts.dim_customers",
            (
                _HAS_ROWS,
                _not_null("customer_key"),
                Check("ExpectColumnValuesToBeUnique", {"column": "customer_key"}),
                *(_not_null(c) for c in _CONSENT_COLUMNS),
                *(_in_set(c, CONSENT, CRITICAL) for c in _CONSENT_COLUMNS),
                _at_least("order_count", 0, CRITICAL),
                _at_least("net_revenue", 0, WARNING),
                _not_before("last_order_at", "first_order_at", WARNING),
            ),
        ),
    )
}


def suite(name: str) -> SuiteSpec:
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(f"unknown quality suite {name!r}; known: {sorted(SUITES)}") from None
