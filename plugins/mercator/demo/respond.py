"""The world's response to a campaign Mercator sent: `python -m mercator.demo respond`.

Mercator decides who is treated (its run at the send date T records `activation.assignments`), so
the response is a second phase, run after that run on its warehouse (read only): every member first
assigned to the audience at T (intent to treat, as `marts.campaign_results` counts them) converts in
the `days` after T with probability `base_rate`, treatment members with `base_rate + effect`;
holdout and global control members are not reached, and nobody else orders in that window. A
converter places one paid online order at a time uniform over (T, T + days] (refused when the
warehouse already has orders after T: run the DAG at the data's last date), worth a Gamma-Gamma
draw with the demo's spend parameters, carrying one identifier Mercator knows the member by (email,
else phone, shop customer id or browser; never one excluded from identity linking). Each member
draws from a stream of its own (seed, audience, T, member), so its outcome does not depend on who
else was assigned.

Written as a new delivery (`shop/orders/orders_response_<audience>_<T>.csv` and its items), which
extract loads on the next run; the orders join truth/records.csv (person: the one most of the
member's records belong to), the campaign (parameters and each group's members, conversions and
revenue) joins truth/params.json under `campaigns`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from mercator import contract
from mercator.demo import reference as ref
from mercator.demo.params import DemoParams
from mercator.demo.processes import order_value_cents, pick, spend_scale, split_cents
from mercator.experiments.campaigns import FIRST_ASSIGNMENTS

GROUPS = ("treatment", "holdout", "control")
ORDER_IDENTIFIERS = ("email", "phone", "customer_id", "anonymous_id")  # shop/orders columns, preferred first


class RespondError(RuntimeError):
    """The send cannot be responded to: not in the warehouse, orders already after it, not a demo
    landing, or responded to already."""


@dataclass(frozen=True)
class Campaign:
    """A send's simulated effect: the absolute conversion lift of being treated over `base_rate`."""

    audience: str
    send_date: date
    effect: float
    base_rate: float
    days: int = 14
    seed: int = 1

    def __post_init__(self) -> None:
        if not (0 <= self.base_rate <= 1 and 0 <= self.base_rate + self.effect <= 1):
            raise ValueError("base_rate and base_rate + effect must be probabilities")
        if self.days < 1:
            raise ValueError("days must be at least 1")

    def delivery(self, entity: str) -> str:
        """The landing file of this response's rows of `entity` (shop/orders or shop/order_items)."""
        return f"{entity}/{entity.split('/')[1]}_response_{self.audience}_{self.send_date.isoformat()}.csv"

    def rate(self, assignment: str) -> float:
        return self.base_rate + self.effect if assignment == "treatment" else self.base_rate


def _members(con, campaign: Campaign) -> list[tuple[str, str]]:
    """(customer_key, assignment) of every member first assigned to the audience at the send date."""
    found = con.execute(
        "select 1 from information_schema.tables where table_schema = 'activation' and table_name = 'assignments'"
    ).fetchall()
    if not found:
        raise RespondError("the warehouse has no activation.assignments: run the DAG at the send date first")
    rows = con.execute(
        f"with first_assignment as ({FIRST_ASSIGNMENTS}) select customer_key, assignment from first_assignment"
        " where audience = ? and send_date = ? order by customer_key",
        [campaign.audience, campaign.send_date],
    ).fetchall()
    if not rows:
        dates = con.execute(
            f"with first_assignment as ({FIRST_ASSIGNMENTS}) select distinct cast(send_date as varchar)"
            " from first_assignment where audience = ? order by 1",
            [campaign.audience],
        ).fetchall()
        raise RespondError(
            f"no member of {campaign.audience} was first assigned on {campaign.send_date}"
            f" (its send dates: {', '.join(d for (d,) in dates) or 'none'})"
        )
    return rows


def _check_window_is_empty(con, campaign: Campaign) -> None:
    """The response's orders are to be the only ones in its window: none may be in the warehouse yet."""
    [(later,)] = con.execute(
        "select count(*) from marts.fct_orders where cast(ordered_at as date) > ?", [campaign.send_date]
    ).fetchall()
    if later:
        raise RespondError(
            f"the warehouse holds {later} order(s) after {campaign.send_date}: they would mix with the response;"
            " send at the data's last date"
        )


def _identifiers(con) -> dict[str, tuple[str, str]]:
    """Per customer, the identifier an order of theirs carries: (shop/orders column, value)."""
    rows = con.execute(
        "select customer_key, identifier_type, identifier_value from marts.customer_identities"
        " where not is_excluded and list_contains(?, identifier_type)"
        " order by customer_key, list_position(?, identifier_type), identifier_value",
        [list(ORDER_IDENTIFIERS), list(ORDER_IDENTIFIERS)],
    ).fetchall()
    chosen: dict[str, tuple[str, str]] = {}
    for key, kind, value in rows:
        chosen.setdefault(key, (kind, value))
    return chosen


def _persons(con, landing: Path) -> dict[str, str]:
    """Per customer, the true person most of their records belong to (truth/records.csv)."""
    records = landing / "truth" / "records.csv"
    if not records.exists():
        raise RespondError(f"{landing} has no truth/records.csv: not a demo landing")
    rows = con.execute(
        """with matched as (
               select c.customer_key, t.person_id, count(*) as n
               from intermediate.int_record_customers as c
               inner join read_csv(?, all_varchar = true) as t using (source, entity, record_id)
               group by all
           )
           select customer_key, first(person_id order by n desc, person_id) from matched group by 1""",
        [str(records)],
    ).fetchall()
    return dict(rows)


def _order(campaign: Campaign, spend: DemoParams, key: str, assignment: str) -> dict | None:
    """The member's response order (column -> value, with its `items`), or None if they do not convert."""
    rng = random.Random(f"mercator-demo/{campaign.seed}/respond/{campaign.audience}/{campaign.send_date}/{key}")
    if rng.random() >= campaign.rate(assignment):
        return None
    start = datetime.combine(campaign.send_date + timedelta(days=1), datetime.min.time())
    at = (start + timedelta(seconds=rng.randrange(campaign.days * 86400))).strftime("%Y-%m-%dT%H:%M:%SZ")
    cents = order_value_cents(rng, spend, spend_scale(rng, spend))
    order_id = "R" + hashlib.sha256(f"{campaign.audience}|{campaign.send_date}|{key}".encode()).hexdigest()[:15]
    items = [
        {"order_id": order_id, "line_number": n, "product_id": product[0], "product_name": product[1],
         "category": product[2], "quantity": quantity, "unit_price": f"{unit / 100:.2f}"}
        for n, ((quantity, unit), product) in enumerate(
            [(line, pick(rng, ref.PRODUCTS)) for line in split_cents(rng, cents)], start=1
        )
    ]
    return {"order_id": order_id, "ordered_at": at, "updated_at": at, "total_amount": f"{cents / 100:.2f}",
            "currency": spend.currency, "discount_amount": "0.00", "status": "paid", "refunded_amount": "0.00",
            "sales_channel": "web", "items": items, "cents": cents}


def _write(path: Path, entity: str, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [c.name for c in contract.entity(entity).columns], extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def respond(warehouse: Path, landing: Path, campaign: Campaign) -> dict:
    """Write the response deliveries and their truth (module docstring); the campaign's truth entry."""
    orders_file, items_file = (landing / campaign.delivery(e) for e in ("shop/orders", "shop/order_items"))
    if orders_file.exists():
        raise RespondError(f"{orders_file} exists: this send was responded to already")
    truth = json.loads((landing / "truth" / "params.json").read_text())
    spend = DemoParams(**{name: truth[name] for name in ("gg_p", "gg_q", "gg_gamma", "currency")})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        members = _members(con, campaign)
        _check_window_is_empty(con, campaign)
        identifiers, persons = _identifiers(con), _persons(con, landing)
    groups = {name: {"members": 0, "conversions": 0, "revenue": 0.0} for name in GROUPS}
    orders, records = [], []
    for key, assignment in members:
        groups[assignment]["members"] += 1
        order = _order(campaign, spend, key, assignment)
        if order is None:
            continue
        if key not in identifiers or key not in persons:
            raise RespondError(f"customer {key} has no identifier an order can carry, or no true person")
        column, value = identifiers[key]
        orders.append({**order, column: value})
        records.append(["shop", "orders", order["order_id"], persons[key]])
        groups[assignment]["conversions"] += 1
        groups[assignment]["revenue"] = round(groups[assignment]["revenue"] + order["cents"] / 100, 2)
    _write(orders_file, "shop/orders", orders)
    _write(items_file, "shop/order_items", [item for order in orders for item in order["items"]])
    with (landing / "truth" / "records.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(records)
    entry = {
        **asdict(campaign),
        "send_date": campaign.send_date.isoformat(),
        "model": "each member first assigned at send_date converts once in (send_date, send_date + days] with"
        " probability base_rate, base_rate + effect if treated; one paid order, Gamma-Gamma value",
        "expected_order_value": spend.gg_p * spend.gg_gamma / (spend.gg_q - 1),
        "deliveries": [campaign.delivery("shop/orders"), campaign.delivery("shop/order_items")],
        "groups": groups,
    }
    truth["campaigns"] = [*truth.get("campaigns", []), entry]
    (landing / "truth" / "params.json").write_text(json.dumps(truth, indent=2) + "\n")
    return entry
