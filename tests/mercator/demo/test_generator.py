"""The demo writes every contract entity, deterministically, with a complete answer key."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from mercator import contract
from mercator.demo.cli import generate
from mercator.demo.malformed import ID_COLUMN
from mercator.demo.params import DemoParams

from .conftest import SAMPLE, read_rows, records


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    params = DemoParams(n_customers=1500, seed=3, malformed_share=0.01)
    generate(params, tmp_path / "a", workers=1)
    generate(params, tmp_path / "b", workers=2)
    generate(DemoParams(n_customers=1500, seed=4, malformed_share=0.01), tmp_path / "c", workers=1)
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert a == b
    assert a.keys() & c.keys()
    assert all(a[name] != c[name] for name in a.keys() & c.keys() if name.endswith("records.csv"))
    assert sum(a[name] != c.get(name) for name in a) > len(a) // 2


def test_malformed_rows_leave_good_rows_untouched(tmp_path: Path) -> None:
    generate(DemoParams(n_customers=800, seed=5), tmp_path / "clean", workers=1)
    generate(DemoParams(n_customers=800, seed=5, malformed_share=0.02), tmp_path / "dirty", workers=1)
    dirty = tmp_path / "dirty"
    bad = defaultdict(set)
    for row in csv.DictReader((dirty / "truth/malformed.csv").open()):
        bad[row["file"]].add(int(row["line"]))
    assert bad
    for name, content in _tree(tmp_path / "clean").items():
        if name in ("truth/records.csv", "truth/junk_identifiers.csv", "truth/shared_visitors.csv"):
            assert content == (dirty / name).read_bytes(), name
        elif not name.startswith("truth/"):
            lines = (dirty / name).read_bytes().splitlines(keepends=True)
            kept = b"".join(line for number, line in enumerate(lines, start=1) if number not in bad[name])
            assert kept == content, name


HEADER_ONLY = {"crm/erasure_requests"}  # nobody in the demo asks to be forgotten


def test_every_entity_written_with_contract_columns(landing: Path) -> None:
    for entity in contract.ENTITIES:
        files = sorted((landing / entity.path).glob("*.csv"))
        assert files, entity.path
        for file in files:
            header = file.open().readline().strip().split(",")
            assert header == [c.name for c in entity.columns], file
        assert bool(read_rows(landing, entity.path)) != (entity.path in HEADER_ONLY), entity.path
    orders = {p.name for p in (landing / "shop/orders").glob("*.csv")}
    assert len(orders) >= 8  # one delivery per quarter


def test_required_columns_filled_and_values_accepted(landing: Path) -> None:
    for entity in contract.ENTITIES:
        for row in read_rows(landing, entity.path):
            for column in entity.columns:
                value = row[column.name]
                if column.required:
                    assert value != "", (entity.path, column.name)
                if column.accepted and value:
                    assert value in column.accepted, (entity.path, column.name, value)


def test_truth_records_cover_every_person_bearing_record(landing: Path) -> None:
    truth = defaultdict(set)
    for row in records(landing):
        truth[(row["source"], row["entity"])].add(row["record_id"])
    key = {"shop/orders": "order_id", "pos/transactions": "transaction_id", "crm/contacts": "contact_id"}
    for path, column in key.items():
        source, entity = path.split("/")
        assert {row[column] for row in read_rows(landing, path)} == truth[(source, entity)], path
    web = {row["anonymous_id"] for row in read_rows(landing, "web/events")}
    web |= {row["anonymous_id"] for row in read_rows(landing, "shop/orders") if row["anonymous_id"]}
    assert web == truth[("web", "visitors")]
    assert {row["device_id"] for row in read_rows(landing, "app/events")} == truth[("app", "devices")]
    grain = [(r["source"], r["entity"], r["record_id"]) for r in records(landing)]
    assert len(grain) == len(set(grain))


def test_order_items_sum_to_order_total(landing: Path) -> None:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in read_rows(landing, "shop/order_items"):
        totals[item["order_id"]] += int(item["quantity"]) * Decimal(item["unit_price"])
    orders = read_rows(landing, "shop/orders")
    assert orders
    for order in orders:
        assert totals[order["order_id"]] == Decimal(order["total_amount"])
        net = Decimal(order["total_amount"]) - Decimal(order["discount_amount"])
        assert Decimal(order["refunded_amount"] or 0) <= net


def test_malformed_rows_listed_match_the_files(landing: Path) -> None:
    listed = list(csv.DictReader((landing / "truth/malformed.csv").open()))
    assert {row["kind"] for row in listed} == {
        "bad_number",
        "bad_timestamp",
        "missing_key",
        "wrong_column_count",
    }
    listed_lines = {(row["file"], int(row["line"])) for row in listed}
    found = set()
    for entity in contract.ENTITIES:
        names = [c.name for c in entity.columns]
        for file in (landing / entity.path).glob("*.csv"):
            relative = file.relative_to(landing).as_posix()
            with file.open(newline="") as handle:
                for line, values in enumerate(csv.reader(handle), start=1):
                    if line == 1:
                        continue
                    row = dict(zip(names, values, strict=False))
                    broken = (
                        len(values) != len(names)
                        or row[ID_COLUMN[entity.path]].startswith("bad-")
                        or not row[entity.required[0]]
                    )
                    if broken:
                        found.add((relative, line))
    assert found == listed_lines


def test_junk_identifiers_are_shared_by_many_persons(landing: Path) -> None:
    from .test_formatting import normalise_phone

    owner = {(r["source"], r["entity"], r["record_id"]): r["person_id"] for r in records(landing)}
    persons = defaultdict(set)
    sources = (("shop/orders", "order_id"), ("pos/transactions", "transaction_id"))
    for path, key in sources:
        source, entity = path.split("/")
        for row in read_rows(landing, path):
            person = owner[(source, entity, row[key])]
            if row["email"]:
                persons[("email", row["email"].strip().lower())].add(person)
            if row["phone"]:
                persons[("phone", normalise_phone(row["phone"]))].add(person)
    junk = list(csv.DictReader((landing / "truth/junk_identifiers.csv").open()))
    assert {j["identifier_value"] for j in junk} >= {"test@example.com", "noemail@none.com"}
    shared = [len(persons[(j["identifier_type"], j["identifier_value"])]) for j in junk]
    assert min(shared[:2]) >= 5
    assert sum(count >= 3 for count in shared) >= len(junk) // 2
    genuine = [
        len(p) for (kind, value), p in persons.items() if value not in {j["identifier_value"] for j in junk}
    ]
    assert max(genuine) == 1


def test_params_json_describes_the_processes(landing: Path) -> None:
    params = json.loads((landing / "truth/params.json").read_text())
    assert params["n_customers"] == SAMPLE.n_customers and params["seed"] == SAMPLE.seed
    assert params["purchase_process"]["r"] == SAMPLE.bgnbd_r
    assert set(params["attribution"]["effects"]) >= {"Paid Search", "Email", "SMS", "Push", "Direct"}
    spend = read_rows(landing, "ads/spend")
    web_campaigns = {
        r["utm_campaign"]
        for r in read_rows(landing, "web/events")
        if r["utm_medium"] in {"cpc", "paid_social", "display"}
    }
    assert web_campaigns == {r["utm_campaign"] for r in spend}


def test_logins_link_browsers_to_the_right_account(landing: Path) -> None:
    owner = {(r["source"], r["entity"], r["record_id"]): r["person_id"] for r in records(landing)}
    account = {
        row["customer_id"]: owner[("shop", "orders", row["order_id"])]
        for row in read_rows(landing, "shop/orders")
        if row["customer_id"]
    }
    shared = {row["anonymous_id"] for row in csv.DictReader((landing / "truth/shared_visitors.csv").open())}
    events = read_rows(landing, "web/events")
    assert any(row["event_name"] == "login" for row in events)
    links = {(row["anonymous_id"], row["user_id"]) for row in events if row["user_id"]}
    assert links
    for anonymous_id, user_id in links:
        if user_id in account and anonymous_id not in shared:
            assert owner[("web", "visitors", anonymous_id)] == account[user_id]
