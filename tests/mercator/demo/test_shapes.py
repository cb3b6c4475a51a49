"""Landing shapes: only their entities, contract headers, deterministic, each shape's defining property."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from mercator import contract
from mercator.demo.shapes import SHAPES, generate, main


def _rows(landing: Path, path: str) -> list[dict[str, str]]:
    rows = []
    for file in sorted((landing / path).glob("*.csv")):
        with file.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def _entities(landing: Path) -> set[str]:
    return {f"{p.parent.parent.name}/{p.parent.name}" for p in landing.glob("*/*/*.csv")}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_writes_exactly_its_entities_with_contract_headers(tmp_path: Path, name: str) -> None:
    shape = replace(SHAPES[name], people=min(SHAPES[name].people, 60))
    generate(shape, tmp_path)
    assert _entities(tmp_path) == shape.entities
    assert (tmp_path / "truth" / "records.csv").exists()
    for file in tmp_path.glob("*/*/*.csv"):
        header = file.read_text().splitlines()[0].split(",")
        assert header == [c.name for c in contract.entity(f"{file.parts[-3]}/{file.parts[-2]}").columns]


def test_same_seed_same_bytes_and_a_smaller_folder_is_a_prefix(tmp_path: Path) -> None:
    shape = replace(SHAPES["no_crm"], people=40)
    generate(shape, tmp_path / "a", seed=3)
    generate(shape, tmp_path / "b", seed=3)
    generate(shape, tmp_path / "c", seed=4)
    generate(replace(shape, people=20), tmp_path / "d", seed=3)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b") != _tree(tmp_path / "c")
    small = {r["order_id"] for r in _rows(tmp_path / "d", "shop/orders")}
    assert small and small < {r["order_id"] for r in _rows(tmp_path / "a", "shop/orders")}


def test_irregular_shop_has_guests_with_an_email_or_nothing(tmp_path: Path) -> None:
    generate(replace(SHAPES["irregular_shop"], people=200), tmp_path)
    orders = _rows(tmp_path, "shop/orders")
    guests = [o for o in orders if not o["customer_id"]]
    assert len(guests) > len(orders) / 2
    assert any(o["email"] for o in guests) and any(not (o["email"] or o["phone"]) for o in guests)
    assert all(not o["phone"] for o in guests)
    times = sorted(o["ordered_at"] for o in orders)
    assert times[0] >= "2026-01-01" and times[-1] < "2026-11-01"
    assert {o["status"] for o in orders} >= {"paid", "cancelled", "refunded"}
    assert {c["email_consent"] for c in _rows(tmp_path, "crm/contacts")} == {"granted", "unknown", "revoked"}


def test_thin_shapes(tmp_path: Path) -> None:
    for name in ("one_order_each", "five_customers", "one_day", "consent_unknown"):
        generate(replace(SHAPES[name], people=min(SHAPES[name].people, 80)), tmp_path / name)
    per_person: dict[str, int] = {}
    for row in csv.DictReader((tmp_path / "one_order_each/truth/records.csv").open()):
        if row["entity"] == "orders":
            per_person[row["person_id"]] = per_person.get(row["person_id"], 0) + 1
    assert per_person and set(per_person.values()) == {1}
    assert len({o["customer_id"] for o in _rows(tmp_path / "five_customers", "shop/orders")}) == 5
    day = tmp_path / "one_day"
    dates = {o["ordered_at"][:10] for o in _rows(day, "shop/orders")}
    dates |= {t["occurred_at"][:10] for t in _rows(day, "pos/transactions")}
    assert dates == {"2026-10-31"}
    contacts = _rows(tmp_path / "consent_unknown", "crm/contacts")
    assert contacts and {c[f"{k}_consent"] for c in contacts for k in ("email", "sms", "push")} == {"unknown"}


def test_cli_lists_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in SHAPES)
    assert main(["--shape", "no_sales", "--out", str(tmp_path), "--people", "10", "--seed", "2"]) == 0
    assert _entities(tmp_path) == {"crm/contacts"}
