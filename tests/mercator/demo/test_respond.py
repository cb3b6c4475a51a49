"""`python -m mercator.demo respond` on a small warehouse made here: who responds, what is written, its truth."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from mercator import contract
from mercator.activation.state import ensure
from mercator.demo.cli import main
from mercator.demo.params import DemoParams
from mercator.demo.respond import Campaign, RespondError, respond

AUDIENCE = "audience_x"
SEND = date(2026, 10, 30)
MEMBERS = 60  # c00..c59: treatment, holdout, control in turn


def _assignment(i: int) -> str:
    return ("treatment", "holdout", "control")[i % 3]


def make_warehouse(path: Path, with_assignments: bool = True, last_order: date = SEND) -> Path:
    """Assignments at SEND (and c01, held out, assigned to treatment a week later: not a first
    assignment), each member's identifiers (c00's email excluded from linking) and records, and orders
    up to `last_order`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema intermediate")
        con.execute("create table marts.fct_orders as select ?::timestamptz as ordered_at union all"
                    " select ?::timestamptz", [SEND - timedelta(days=30), last_order])
        con.execute("create temp table members as select i, printf('c%02d', i) as k from range(?) as r(i)", [MEMBERS])
        con.execute("""create table marts.customer_identities as
            select k as customer_key, 'email' as identifier_type, k || '@example.org' as identifier_value,
                i = 0 as is_excluded from members
            union all select k, 'phone', printf('+1555000%04d', i), false from members""")
        con.execute("""create table intermediate.int_record_customers as
            select source, entity, prefix || i as record_id, k as customer_key from members
            cross join (values ('shop', 'orders', 'o'), ('crm', 'contacts', 'k'), ('web', 'visitors', 'v'))
                as kinds(source, entity, prefix)""")
        if with_assignments:
            ensure(con)
            con.execute("""insert into activation.assignments (run_id, audience, customer_key, assignment,
                               would_send, bucket, as_of)
                           select 'r1', ?, k, ['treatment', 'holdout', 'control'][i % 3 + 1], true, 0.5, ?
                           from members""", [AUDIENCE, SEND])
            con.execute("insert into activation.assignments (run_id, audience, customer_key, assignment, would_send,"
                        " bucket, as_of, assigned_at) values ('r2', ?, 'c01', 'treatment', true, 0.5, ?,"
                        " current_timestamp + interval 1 hour)", [AUDIENCE, SEND + timedelta(days=7)])
    return path


def make_landing(root: Path) -> Path:
    """truth/ as the generator writes it: params.json and records.csv (two of c05's three records are
    another person's)."""
    (root / "truth").mkdir(parents=True)
    (root / "truth" / "params.json").write_text(json.dumps(DemoParams().to_json_dict()))
    rows = [("shop", "orders", f"o{i}", f"P{i}") for i in range(MEMBERS)]
    rows += [("crm", "contacts", f"k{i}", "P99" if i == 5 else f"P{i}") for i in range(MEMBERS)]
    rows += [("web", "visitors", f"v{i}", "P99" if i == 5 else f"P{i}") for i in range(MEMBERS)]
    with (root / "truth" / "records.csv").open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([("source", "entity", "record_id", "person_id"), *rows])
    return root


def _read(landing: Path, relative: str) -> list[dict[str, str]]:
    with (landing / relative).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _member(order: dict[str, str]) -> str:
    """The customer key an order's email or phone belongs to (make_warehouse's identifiers)."""
    return order["email"].split("@")[0] if order["email"] else f"c{int(order['phone'][-4:]):02d}"


def _files(landing: Path) -> dict[str, bytes]:
    return {p.relative_to(landing).as_posix(): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "wh.duckdb")


def test_the_same_seed_writes_the_same_bytes_another_seed_other_orders(tmp_path: Path, warehouse: Path) -> None:
    landings = [make_landing(tmp_path / name) for name in ("a", "b", "c")]
    for landing, seed in zip(landings, (7, 7, 8), strict=True):
        respond(warehouse, landing, Campaign(AUDIENCE, SEND, effect=0.3, base_rate=0.2, seed=seed))
    a, b, c = (_files(landing) for landing in landings)
    assert a == b
    assert a["truth/params.json"] != c["truth/params.json"]


def test_only_first_assignments_at_the_send_date_respond_at_their_rates(tmp_path: Path, warehouse: Path) -> None:
    """effect 1 over a base rate 0: every treatment member orders, no holdout or control member does."""
    landing = make_landing(tmp_path / "landing")
    campaign = Campaign(AUDIENCE, SEND, effect=1.0, base_rate=0.0, days=14)
    entry = respond(warehouse, landing, campaign)
    orders = _read(landing, campaign.delivery("shop/orders"))
    treated = [f"c{i:02d}" for i in range(MEMBERS) if _assignment(i) == "treatment"]
    assert entry["groups"] == {
        "treatment": {"members": 20, "conversions": 20, "revenue": pytest.approx(
            sum(float(o["total_amount"]) for o in orders))},
        "holdout": {"members": 20, "conversions": 0, "revenue": 0.0},
        "control": {"members": 20, "conversions": 0, "revenue": 0.0},
    }
    # each order carries an identifier of its member not excluded from linking: c00's phone, others' email
    assert sorted(_member(o) for o in orders) == treated
    assert [o["phone"] for o in orders if _member(o) == "c00"] == ["+15550000000"]
    days = {date.fromisoformat(o["ordered_at"][:10]) for o in orders}
    assert min(days) > SEND and max(days) <= SEND + timedelta(days=14)
    truth = json.loads((landing / "truth" / "params.json").read_text())
    assert truth["gg_p"] == DemoParams().gg_p and truth["campaigns"] == [json.loads(json.dumps(entry))]


def test_writes_contract_columns_and_a_complete_answer_key(tmp_path: Path, warehouse: Path) -> None:
    landing = make_landing(tmp_path / "landing")
    campaign = Campaign(AUDIENCE, SEND, effect=0.0, base_rate=1.0)  # every member orders
    respond(warehouse, landing, campaign)
    for entity in ("shop/orders", "shop/order_items"):
        with (landing / campaign.delivery(entity)).open() as handle:
            assert handle.readline().strip().split(",") == [c.name for c in contract.entity(entity).columns]
    orders = _read(landing, campaign.delivery("shop/orders"))
    items = _read(landing, campaign.delivery("shop/order_items"))
    assert orders and {o["status"] for o in orders} == {"paid"}
    for order in orders:
        lines = [i for i in items if i["order_id"] == order["order_id"]]
        assert round(sum(int(i["quantity"]) * float(i["unit_price"]) for i in lines), 2) == float(order["total_amount"])
    persons = {r["record_id"]: r["person_id"] for r in _read(landing, "truth/records.csv")}
    expected = {o["order_id"]: "P99" if _member(o) == "c05" else f"P{int(_member(o)[1:])}" for o in orders}
    assert len(orders) == MEMBERS and {k: persons[k] for k in expected} == expected  # the majority person
    with pytest.raises(RespondError, match="responded to already"):
        respond(warehouse, landing, campaign)


def test_refuses_a_warehouse_without_the_send_or_with_orders_after_it(tmp_path: Path, warehouse: Path, capsys) -> None:
    landing = make_landing(tmp_path / "landing")
    bare = make_warehouse(tmp_path / "bare.duckdb", with_assignments=False)
    with pytest.raises(RespondError, match="no activation.assignments: run the DAG at the send date first"):
        respond(bare, landing, Campaign(AUDIENCE, SEND, effect=0.1, base_rate=0.1))
    with pytest.raises(SystemExit) as exit_:
        main(["respond", "--warehouse", str(warehouse), "--landing", str(landing), "--audience", AUDIENCE,
              "--send-date", "2026-10-31", "--effect", "0.1", "--base-rate", "0.1"])
    assert exit_.value.code == 2
    assert "no member of audience_x was first assigned on 2026-10-31 (its send dates: 2026-10-30)" in (
        capsys.readouterr().err)
    late = make_warehouse(tmp_path / "late.duckdb", last_order=SEND + timedelta(days=1))
    with pytest.raises(RespondError, match="holds 1 order"):
        respond(late, landing, Campaign(AUDIENCE, SEND, effect=0.1, base_rate=0.1))
    assert not (landing / "shop").exists()
    with pytest.raises(ValueError, match="probabilities"):
        Campaign(AUDIENCE, SEND, effect=0.5, base_rate=0.6)
