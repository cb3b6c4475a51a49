"""Bad inputs whose outcome is decided in the dbt models, on one shared landing and one dbt build.

Each kind uses its own ids (order ids prefixed by the kind). The landing is extracted in two runs
(the second one redelivers, adds late data and stale versions), in source time zone Europe/Berlin,
then `dbt build` runs once on a copy of the project whose seed currency_rates has a GBP rate.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from mercator.reporting.metrics import collect
from mercator.transform import run_dbt

from tests.mercator.dbt.identity_fixtures import copy_project

from .conftest import Corpus, assert_accounted, corpus_settings, csv_text, order

SOURCE_TZ = "Europe/Berlin"
GBP_RATE = Decimal("1.25")
HEADER = ["order_id", "customer_id", "email", "phone", "ordered_at", "total_amount", "currency", "status",
          "refunded_amount", "updated_at"]
DBT_SELECT = ("+fct_orders", "+customer_rfm", "+dim_customers", "+customer_identities")
WARN_TESTS = ("assert_orders_have_exchange_rate", "assert_no_future_dated_orders", "assert_order_statuses_known")

# Naive times are local to SOURCE_TZ: 2026-03-29 02:30 does not exist, 2026-10-25 02:30 happens twice.
DST_TIMES = {
    "dst-spring-before": "2026-03-29 01:30:00",
    "dst-spring-gap": "2026-03-29 02:30:00",
    "dst-spring-after": "2026-03-29 03:30:00",
    "dst-autumn-before": "2026-10-25 01:30:00",
    "dst-autumn-twice": "2026-10-25 02:30:00",
    "dst-autumn-after": "2026-10-25 03:30:00",
    "dst-offset-summer": "2026-10-25T02:30:00+02:00",
    "dst-offset-winter": "2026-10-25T02:30:00+01:00",
    "dst-offset-z": "2026-03-29T02:30:00Z",
}


def _o(order_id: str, day: str = "2026-02-01", total: str = "10.00", customer: str | None = None, **extra) -> dict:
    customer = customer or order_id
    ordered_at = day if "T" in day or " " in day else f"{day}T12:00:00Z"
    return order(order_id, ordered_at, total, customer_id=f"cust-{customer}", email=f"{customer}@example.test",
                 **extra)


PLACEHOLDERS = ("NULL", "n/a", "undefined", " none ", "-")
RUN1_ORDERS = [
    _o("base-1", total="100.00"), _o("base-2", "2026-02-02", "50.00"), _o("base-3", "2026-02-03", "25.00"),
    _o("dupw-1", total="10.00"), _o("dupw-1", total="20.00"),
    _o("dupa-1", total="10.00"),
    _o("ws-1", total="10.00"),
    _o("late-a", "2026-03-20", customer="late"),
    _o("refbefore-1", total="30.00", status="refunded", refunded_amount="30.00", updated_at="2026-03-12T09:00:00Z"),
    _o("neg-1", total="-40.00"),
    _o("neg-2", total="50.00", status="partially_refunded", refunded_amount="-5.00"),
    _o("cur-1", total="40.00", customer="cur", currency="EUR"),
    _o("cur-2", total="60.00", customer="cur"),
    _o("cur-3", total="40.00", customer="cur", currency="GBP"),
    _o("cur-4", total="10.00", customer="cur-only", currency="eur"),
    _o("cur-5", total="5.00", customer="cur-ws", currency=" usd "),
    _o("enum-1", status="on_hold"), _o("enum-2", status=" Completed "),
    {**_o("inv-1"), "email": "john@@example", "phone": "call me"},
    _o("fut-0", "2026-02-10", customer="fut"), _o("fut-1", "2030-01-01", customer="fut"),
    *(_o(order_id, local, customer="dst") for order_id, local in DST_TIMES.items()),
    *({**_o(f"ph-{i}"), "customer_id": placeholder, "email": "", "phone": ""}
      for i, placeholder in enumerate(PLACEHOLDERS)),
    *({**_o(f"ph-mail-{i}"), "customer_id": placeholder} for i, placeholder in enumerate(PLACEHOLDERS)),
]
RUN2_ORDERS = [
    _o("dupa-1", total="30.00"),
    _o(" ws-1 ", total="40.00", customer="ws-1"),
    _o("late-b", "2026-01-05", customer="late"),
    _o("refbefore-1", total="30.00", status="paid", updated_at="2026-03-05T09:00:00Z"),
]
REDELIVERED = (
    [_o("redel-1"), _o("redel-2", total="20.00"), _o("redel-3", total="30.00")],
    [_o("redel-1", total="15.00"), _o("redel-2", total="20.00", status="refunded"), _o("redel-4", total="40.00")],
)
POS_HEADER = ["transaction_id", "store_id", "email", "occurred_at", "total_amount", "status"]
POS = [
    {"transaction_id": "refbefore-pos-return", "store_id": "s1", "email": "posret@example.test",
     "occurred_at": "2026-02-01T10:00:00Z", "total_amount": "-25.00", "status": "returned"},
    {"transaction_id": "refbefore-pos-sale", "store_id": "s1", "email": "posret@example.test",
     "occurred_at": "2026-02-10T10:00:00Z", "total_amount": "25.00", "status": "completed"},
]
CONTACT_HEADER = ["contact_id", "email", "phone", "updated_at", "email_consent"]
CONTACTS = (
    [{"contact_id": "c-late", "email": "new@example.test", "updated_at": "2026-03-10T00:00:00Z",
      "email_consent": "granted"},
     {"contact_id": "c-enum", "email": "enum-2@example.test", "updated_at": "2026-03-01T00:00:00Z",
      "email_consent": "yes"},
     {"contact_id": "c-inv", "email": "not-an-email", "phone": "12", "updated_at": "2026-03-01T00:00:00Z"}],
    [{"contact_id": "c-late", "email": "old@example.test", "updated_at": "2026-03-01T00:00:00Z",
      "email_consent": "revoked"}],
)


@dataclass(frozen=True)
class ModelCorpus:
    corpus: Corpus
    target: Path

    def rows(self, sql: str) -> list[tuple]:
        return self.corpus.rows(sql)

    def fct(self, order_id: str, columns: str = "*") -> tuple:
        rows = self.rows(f"select {columns} from marts.fct_orders where source_order_id = '{order_id}'")
        assert len(rows) == 1, (order_id, rows)
        return rows[0]

    def warnings(self) -> dict[str, tuple[str, int]]:
        results = json.loads((self.target / "run_results.json").read_text())["results"]
        return {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results
                if r["unique_id"].split(".")[2] in WARN_TESTS}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> ModelCorpus:
    root = tmp_path_factory.mktemp("model_corpus")
    project = copy_project(root)
    with (project / "seeds" / "currency_rates.csv").open("a") as seed:
        seed.write(f"GBP,USD,{GBP_RATE}\n")
    settings = replace(corpus_settings(root, SOURCE_TZ), dbt_project_dir=project)
    corpus = Corpus(settings)
    entities = ("shop/orders", "pos/transactions", "crm/contacts")
    corpus.write("shop/orders/run1.csv", csv_text(RUN1_ORDERS, HEADER))
    corpus.write("shop/orders/redelivered.csv", csv_text(REDELIVERED[0], HEADER))
    corpus.write("pos/transactions/run1.csv", csv_text(POS, POS_HEADER))
    corpus.write("crm/contacts/run1.csv", csv_text(CONTACTS[0], CONTACT_HEADER))
    corpus.extract(*entities, load_id="run1")
    corpus.write("shop/orders/run2.csv", csv_text(RUN2_ORDERS, HEADER))
    corpus.write("shop/orders/redelivered.csv", csv_text(REDELIVERED[1], HEADER))
    corpus.write("crm/contacts/run2.csv", csv_text(CONTACTS[1], CONTACT_HEADER))
    corpus.extract(*entities, load_id="run2")
    run_dbt(settings, "build", "--select", *DBT_SELECT, "--indirect-selection", "cautious")
    shutil.rmtree(project / "logs", ignore_errors=True)
    return ModelCorpus(corpus, settings.dbt_target_dir)


def test_every_delivery_is_accounted_for_and_every_order_id_is_one_row(built) -> None:
    assert_accounted(built.corpus.settings.warehouse)
    assert built.rows("select sum(rows_quarantined) from raw._deliveries") == [(0,)]
    delivered = {o["order_id"].strip() for o in RUN1_ORDERS + RUN2_ORDERS + REDELIVERED[1]}
    fct = built.rows("select source_order_id from marts.fct_orders where order_source = 'shop'")
    assert sorted(r[0] for r in fct) == sorted(delivered)


def test_duplicate_key_within_a_delivery_keeps_its_last_line(built) -> None:
    assert built.rows("select count(*) from raw.shop__orders where order_id = 'dupw-1'") == [(2,)]
    assert built.fct("dupw-1", "gross_amount") == (Decimal("20.00"),)


def test_duplicate_key_across_deliveries_keeps_the_latest_delivery(built) -> None:
    assert built.fct("dupa-1", "gross_amount") == (Decimal("30.00"),)


def test_keys_differing_only_by_whitespace_are_one_order(built) -> None:
    assert built.fct("ws-1", "gross_amount") == (Decimal("40.00"),)


def test_redelivered_file_replaces_its_previous_content(built) -> None:
    assert built.rows("select rows_in, rows_loaded from raw._deliveries where file = 'shop/orders/redelivered.csv' "
                      "order by loaded_at") == [(3, 3), (3, 3)]
    assert built.fct("redel-1", "gross_amount, net_amount") == (Decimal("15.00"), Decimal("15.00"))
    assert built.fct("redel-2", "status, net_amount, is_countable") == ("refunded", Decimal("0.00"), False)
    assert built.fct("redel-4", "gross_amount") == (Decimal("40.00"),)
    assert built.rows("select count(*) from marts.fct_orders where source_order_id = 'redel-3'") == [(0,)]


def test_late_arriving_orders_count_and_stale_versions_do_not_win(built) -> None:
    stats = built.rows(
        "select s.first_order_at, s.order_count from intermediate.int_customer_order_stats as s "
        "join marts.fct_orders as f using (customer_key) where f.source_order_id = 'late-a'")
    assert stats == [(datetime(2026, 1, 5, 12, tzinfo=UTC), 2)]
    assert built.rows("select email, email_consent from staging.stg_crm__contacts where contact_id = 'c-late'") == [
        ("new@example.test", "granted")]


def test_refund_delivered_before_its_order_keeps_the_refund(built) -> None:
    assert built.fct("refbefore-1", "status, refunded_amount, net_amount, is_countable") == (
        "refunded", Decimal("30.00"), Decimal("0.00"), False)


def test_pos_return_before_its_sale_is_its_own_row_netted_to_zero(built) -> None:
    assert built.fct("refbefore-pos-return", "status, gross_amount, net_amount, is_countable") == (
        "refunded", Decimal("-25.00"), Decimal("0.00"), False)
    assert built.fct("refbefore-pos-sale", "status, net_amount, is_countable") == ("paid", Decimal("25.00"), True)
    [(sale_key,)] = built.rows("select customer_key from marts.fct_orders where source_order_id = 'refbefore-pos-sale'")
    assert built.rows(f"select frequency, monetary from marts.customer_rfm where customer_key = '{sale_key}'") == [
        (1, Decimal("25.00"))]


def test_negative_amounts_net_to_zero_and_negative_refunds_to_none(built) -> None:
    assert built.fct("neg-1", "gross_amount, refunded_amount, net_amount, is_countable") == (
        Decimal("-40.00"), Decimal("-40.00"), Decimal("0.00"), False)
    assert built.fct("neg-2", "refunded_amount, net_amount, is_countable") == (
        Decimal("0.00"), Decimal("50.00"), True)
    assert built.rows("select count(*) from marts.fct_orders where net_amount < 0") == [(0,)]


def test_currencies_without_a_rate_are_flagged_and_never_summed(built) -> None:
    assert built.fct("cur-1", "currency, has_exchange_rate, net_amount_reporting") == ("EUR", False, None)
    assert built.fct("cur-4", "currency, has_exchange_rate") == ("EUR", False)
    assert built.fct("cur-3", "has_exchange_rate, exchange_rate, net_amount_reporting") == (
        True, GBP_RATE, Decimal("40.00") * GBP_RATE)
    assert built.fct("cur-2", "reporting_currency, exchange_rate, net_amount_reporting") == (
        "USD", 1, Decimal("60.00"))
    assert built.fct("cur-5", "currency, has_exchange_rate") == ("USD", True)
    rfm = {key: rest for key, *rest in built.rows(
        "select f.source_order_id, r.frequency, r.monetary, r.unpriced_order_count from marts.customer_rfm as r "
        "join marts.fct_orders as f using (customer_key) where f.source_order_id in ('cur-2', 'cur-4')")}
    assert rfm["cur-2"] == [3, Decimal("60.00") + Decimal("40.00") * GBP_RATE, 1]
    assert rfm["cur-4"] == [1, 0, 1]
    unpriced = built.rows("select count(*) from marts.fct_orders where not has_exchange_rate")[0][0]
    assert built.warnings()["assert_orders_have_exchange_rate"] == ("warn", unpriced) == ("warn", 2)


def test_unknown_enum_values_are_kept_and_mapped(built) -> None:
    assert built.fct("enum-1", "status, is_countable") == ("unknown", False)
    assert built.rows("select source_status from staging.stg_shop__orders where order_id = 'enum-1'") == [
        ("on_hold",)]
    assert built.fct("enum-2", "status, is_countable") == ("paid", True)
    assert built.rows("select email_consent from staging.stg_crm__contacts where contact_id = 'c-enum'") == [
        ("unknown",)]
    assert built.warnings()["assert_order_statuses_known"] == ("warn", 1)


def test_invalid_emails_and_phones_are_dropped_and_the_records_kept(built) -> None:
    assert built.rows("select email, phone, customer_id from staging.stg_shop__orders where order_id = 'inv-1'") == [
        (None, None, "cust-inv-1")]
    assert built.rows("select email, phone from staging.stg_crm__contacts where contact_id = 'c-inv'") == [
        (None, None)]
    assert built.fct("inv-1", "customer_key is not null, is_countable") == (True, True)
    values = {r[0] for r in built.rows("select identifier_value from marts.customer_identities")}
    assert not values & {"john@@example", "not-an-email", "12", "call me"}


def test_future_dated_orders_are_kept_flagged_and_not_counted(built) -> None:
    assert built.fct("fut-1", "is_future_dated, is_countable") == (True, True)
    assert built.fct("fut-0", "is_future_dated") == (False,)
    [(as_of,)] = built.rows("select distinct as_of from marts.customer_rfm")
    latest = built.rows("select max(cast(ordered_at as date)) from marts.fct_orders where not is_future_dated")
    assert [(as_of,)] == latest
    assert built.rows("select count(*) from intermediate.int_orders_countable as c join marts.fct_orders "
                      "using (order_key) where is_future_dated") == [(0,)]
    assert built.warnings()["assert_no_future_dated_orders"] == ("warn", 1)


def test_naive_and_offset_timestamps_around_dst_changes_are_the_right_instants(built) -> None:
    berlin = ZoneInfo(SOURCE_TZ)
    expected = {}
    for order_id, text in DST_TIMES.items():
        parsed = datetime.fromisoformat(text)
        expected[order_id] = (parsed if parsed.tzinfo else parsed.replace(tzinfo=berlin)).astimezone(UTC)
    got = dict(built.rows(
        "select source_order_id, ordered_at from marts.fct_orders where source_order_id like 'dst-%'"))
    assert got == expected
    assert expected["dst-autumn-twice"] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert expected["dst-spring-gap"] == expected["dst-spring-after"] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_dashboard_revenue_leaves_out_orders_without_a_rate(built, tmp_path) -> None:
    with duckdb.connect(str(built.corpus.settings.warehouse), read_only=True) as con:
        data = collect(con, tmp_path)
    [(priced,)] = built.rows("select sum(net_amount_reporting) from marts.fct_orders where is_countable")
    assert (data.net_revenue, data.currency) == (priced, "USD")


def test_placeholder_identifiers_link_nobody(built) -> None:
    anonymous = built.rows("select customer_key from marts.fct_orders where source_order_id like 'ph-_'")
    assert anonymous == [(None,)] * len(PLACEHOLDERS)
    keys = built.rows(
        "select count(distinct customer_key) from marts.fct_orders where source_order_id like 'ph-mail-%'")
    assert keys == [(len(PLACEHOLDERS),)]
    assert built.rows("select count(*) from staging.stg_shop__orders where order_id like 'ph-%' "
                      "and customer_id is not null") == [(0,)]
