"""Identity resolution end to end: hand-made raw rows -> dbt build -> customers, exclusions, consent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mercator.dbt.identity_fixtures import copy_project, load_raw, query, run_dbt

CHAIN_LINKS = 64
SHARED_EMAIL = "shared@example.com"
DENIED_PHONE = "+12025550100"
EXCLUDED = "select identifier_value, reason from intermediate.int_identity_excluded_identifiers"
MY_MODELS = "+dim_customers +customer_identities +customer_key_merges +int_identity_consents"


def _chain_orders() -> list[dict]:
    """Orders that link customer ids and emails alternately: c0-e0-c1-e1-... one long chain."""
    orders = []
    for i in range(CHAIN_LINKS // 2):
        orders.append({"order_id": f"chain-a{i}", "customer_id": f"c{i}", "email": f"e{i}@chain.com"})
        orders.append({"order_id": f"chain-b{i}", "customer_id": f"c{i + 1}", "email": f"e{i}@chain.com"})
    return orders


def _raw_rows() -> dict[str, list[dict]]:
    at = {"ordered_at": "2025-03-01 10:00:00+00", "total_amount": 10}
    orders = _chain_orders() + [
        # five different people typed the same placeholder email: it must not link them
        *({"order_id": f"shared{i}", "customer_id": f"s{i}", "email": SHARED_EMAIL} for i in range(5)),
        {"order_id": "denied1", "customer_id": "d1", "phone": "(202) 555-0100"},
        {"order_id": "denied2", "customer_id": "d2", "phone": "202.555.0100"},
        {"order_id": "junk-only", "email": f"  {SHARED_EMAIL.upper()} "},
        {"order_id": "no-identifier"},
        {"order_id": "anna1", "customer_id": "anna", "email": "Anna@Example.com ", "anonymous_id": "anon-anna"},
    ]
    return {
        "shop/orders": [{**at, **order} for order in orders],
        "crm/contacts": [
            {"contact_id": "k-anna", "email": "anna@example.com", "phone": "+1 (415) 555-0101",
             "loyalty_id": "L-anna", "first_name": "Anna", "last_name": "Old", "updated_at": "2025-01-01",
             "email_consent": "granted", "sms_consent": "granted", "push_consent": "unknown",
             "ads_consent": "granted"},
            {"contact_id": "k-anna-2", "email": "anna.work@example.com", "loyalty_id": "L-anna",
             "last_name": "New", "updated_at": "2025-06-01", "email_consent": "unknown", "ads_consent": " Revoked "},
        ],
        "pos/transactions": [
            {"transaction_id": "t-anna", "store_id": "s1", "loyalty_id": "L-anna", "phone": "4155550101",
             "occurred_at": "2025-04-01", "total_amount": 5},
        ],
        "web/events": [
            {"event_id": "w1", "anonymous_id": "anon-web", "user_id": "anna", "event_name": "login",
             "occurred_at": "2025-02-01"},
            {"event_id": "w2", "anonymous_id": "anon-lonely", "event_name": "page_view", "occurred_at": "2025-02-01"},
        ],
        "app/events": [
            {"event_id": "a1", "device_id": "dev-anna", "user_id": "anna", "event_name": "app_open",
             "occurred_at": "2025-02-01"},
        ],
        "email/events": [
            {"email": "anna@example.com", "timestamp": "2025-05-01", "event": "unsubscribe"},
            {"email": "nobody@example.com", "timestamp": "2025-05-01", "event": "delivered"},
        ],
        "sms/events": [
            {"MessageSid": "m1", "To": "+18005550000", "From": "415-555-0101", "MessageStatus": "received",
             "Body": "STOP", "timestamp": "2025-05-02"},
            {"MessageSid": "m2", "To": "+14155550101", "From": "+18005550000", "MessageStatus": "delivered",
             "timestamp": "2025-05-03"},
        ],
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("identity")
    project = copy_project(root)
    (project / "seeds" / "identity_deny_list.csv").write_text(
        f"identifier_type,identifier_value,reason\nphone,{DENIED_PHONE},test number\n"
    )
    warehouse = root / "warehouse.duckdb"
    load_raw(warehouse, _raw_rows())
    run_dbt(project, warehouse, "build", "--select", MY_MODELS, "--indirect-selection", "cautious")
    return warehouse


def _record_keys(warehouse: Path, entity: str) -> dict[str, str | None]:
    rows = query(warehouse, f"select record_id, customer_key from intermediate.int_record_customers "
                            f"where entity = '{entity}'")
    return dict(rows)


def test_a_long_chain_resolves_to_one_customer(warehouse: Path) -> None:
    keys = _record_keys(warehouse, "orders")
    chain = {keys[o["order_id"]] for o in _chain_orders()}
    assert len(chain) == 1 and None not in chain


def test_shared_email_is_excluded_and_does_not_link(warehouse: Path) -> None:
    keys = _record_keys(warehouse, "orders")
    assert len({keys[f"shared{i}"] for i in range(5)}) == 5
    assert keys["junk-only"] is None and keys["no-identifier"] is None
    excluded = dict(query(warehouse, EXCLUDED))
    assert excluded[SHARED_EMAIL] == "shared"
    flagged = query(warehouse, f"select customer_key, is_excluded from marts.customer_identities "
                               f"where identifier_value = '{SHARED_EMAIL}'")
    assert flagged == [(None, True)]


def test_deny_listed_phone_is_excluded(warehouse: Path) -> None:
    keys = _record_keys(warehouse, "orders")
    assert keys["denied1"] != keys["denied2"]
    excluded = dict(query(warehouse, EXCLUDED))
    assert excluded[DENIED_PHONE] == "deny_list"


def test_records_of_every_source_link_to_one_person(warehouse: Path) -> None:
    records = query(warehouse, "select source, record_id, customer_key from intermediate.int_record_customers")
    keys = {(source, record_id): key for source, record_id, key in records}
    anna = {keys[("shop", "anna1")], keys[("crm", "k-anna")], keys[("crm", "k-anna-2")], keys[("pos", "t-anna")],
            keys[("web", "anon-web")], keys[("app", "dev-anna")]}
    assert len(anna) == 1 and None not in anna
    from_order = query(warehouse, "select customer_key from marts.customer_identities "
                                  "where identifier_value = 'anon-anna'")
    assert from_order == [(next(iter(anna)),)]
    assert keys[("web", "anon-lonely")] not in anna | {None}


def test_golden_record_and_consent(warehouse: Path) -> None:
    [row] = query(warehouse, """
        select dim.email, dim.phone, dim.first_name, dim.last_name, dim.email_consent, dim.sms_consent,
            dim.push_consent, dim.ads_consent, dim.ads_consent_updated_at, dim.is_erased
        from marts.dim_customers as dim
        inner join intermediate.int_record_customers as records on dim.customer_key = records.customer_key
        where records.record_id = 'k-anna'
    """)
    assert row[:4] == ("anna.work@example.com", "+14155550101", "Anna", "New")
    assert row[4:7] == ("revoked", "revoked", "unknown")
    assert (row[7], str(row[8])[:10], row[9]) == ("revoked", "2025-06-01", False)


def test_browsing_only_visitors_are_not_customers(warehouse: Path) -> None:
    keys = _record_keys(warehouse, "visitors")
    dim_keys = {key for (key,) in query(warehouse, "select customer_key from marts.dim_customers")}
    assert keys["anon-lonely"] not in dim_keys and keys["anon-web"] in dim_keys
    identities = query(warehouse, "select count(*) from marts.customer_identities "
                                  "where identifier_value = '+18005550000'")
    assert identities == [(0,)]
