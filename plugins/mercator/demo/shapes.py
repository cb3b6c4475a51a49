"""Small landing folders of different shapes, for running the pipeline on data unlike the demo's.

`python -m mercator.demo.shapes --shape NAME --out DIR [--seed N] [--people N]`; `--list` lists them.

Each shape writes only its entities, as the landing contract says:
`DIR/<source>/<entity>/<entity>_<quarter>.csv` (CRM: `contacts_01_export.csv` and
`contacts_02_updates.csv`; ad spend: one file per platform), contract columns in contract order,
values as the demo types them (emails and phones as people type them, USD amounts, paid /
refunded / cancelled orders). `DIR/truth/records.csv` (source, entity, record_id, person_id)
is the answer key, as in the demo. Output is identical for a seed; person i is the same
whatever `--people`, so a smaller folder is a prefix of a larger one.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from mercator import contract
from mercator.demo.batch import Sink
from mercator.demo.formatting import Clock
from mercator.demo.shape_people import ShapeParams, simulate
from mercator.demo.tables import id_stream

SALES = frozenset({"shop/orders", "shop/order_items", "pos/transactions"})
NOT_CRM = frozenset(e.path for e in contract.ENTITIES if e.source != "crm")


@dataclass(frozen=True)
class Shape:
    """A kind of landing folder: which entities it has and how its people buy."""

    name: str
    about: str
    entities: frozenset[str]
    people: int = 300
    start: str = "2026-01-01"
    end: str = "2026-10-31"
    orders: tuple[int, int] = (1, 4)  # purchases per buyer, uniform between the two
    buyer_share: float = 0.8  # the others only browse (and sometimes leave a CRM contact)
    account_share: float = 0.5  # buyers with a shop account (customer_id); the others are guests
    guest_email_share: float = 0.7  # guests who leave an email at checkout; the others leave nothing
    pos_share: float = 0.3  # purchases made in a store, when the shape has pos/transactions
    contact_share: float = 0.3  # non-buyers with a CRM contact (newsletter sign-up)
    consent_unknown: bool = False  # every CRM consent 'unknown'

    def has(self, path: str) -> bool:
        return path in self.entities

    @property
    def sells(self) -> bool:
        return bool(self.entities & {"shop/orders", "pos/transactions"})


SHAPES = {
    s.name: s
    for s in (
        Shape(
            "irregular_shop",
            "the bug report's shop: orders, store sales, CRM and web visits of 3,000 buyers, 1-4 orders "
            "each at uniform times over Jan-Oct 2026, many guests leaving only an email or nothing",
            SALES | {"crm/contacts", "web/events"},
            people=3000,
            buyer_share=1.0,
            account_share=0.3,
            guest_email_share=0.6,
        ),
        Shape("orders_only_10m", "only shop/orders, ten months", frozenset({"shop/orders"})),
        Shape(
            "one_order_each",
            "every customer orders exactly once",
            frozenset({"shop/orders", "shop/order_items", "crm/contacts", "web/events"}),
            orders=(1, 1),
            buyer_share=1.0,
        ),
        Shape(
            "five_customers",
            "five customers with accounts, two to four orders each",
            frozenset({"shop/orders", "shop/order_items", "crm/contacts", "web/events"}),
            people=5,
            orders=(2, 4),
            buyer_share=1.0,
            account_share=1.0,
        ),
        Shape(
            "one_day",
            "every order and store sale on 2026-10-31",
            SALES | {"crm/contacts"},
            start="2026-10-31",
            orders=(1, 2),
        ),
        Shape("no_crm", "every entity but the CRM's (crm/contacts)", NOT_CRM),
        Shape("no_events", "orders, store sales and CRM; no web or app events", SALES | {"crm/contacts"}),
        Shape(
            "consent_unknown",
            "CRM contacts whose consents are all 'unknown'",
            frozenset({"shop/orders", "shop/order_items", "crm/contacts", "web/events"}),
            consent_unknown=True,
        ),
        Shape("no_sales", "crm/contacts only: no orders, no store sales", frozenset({"crm/contacts"}),
              contact_share=1.0),
    )
}


def generate(shape: Shape, out: Path, seed: int = 1) -> None:
    """Write the shape's landing folder (and truth/records.csv) under `out`."""
    params = ShapeParams(seed=seed, start_date=shape.start, end_date=shape.end)
    clock = Clock(params.start, params.window_days)
    sink = Sink()
    for index in range(shape.people):
        simulate(shape, params, clock, sink, seed, index)
    if shape.has("ads/spend"):
        _add_spend(sink, params, random.Random(f"mercator-shapes/{shape.name}/{seed}/spend"))
    ids = id_stream(f"mercator-shapes/{shape.name}/{seed}/ids")
    for relative, lines in sorted(sink.files(clock, ids).items()):
        path = relative.rsplit("/", 1)[0]
        if shape.has(path):
            header = ",".join(c.name for c in contract.entity(path).columns)
            (out / path).mkdir(parents=True, exist_ok=True)
            (out / relative).write_text("".join([header + "\n", *(line + "\n" for line in lines)]), encoding="utf-8")
    kept = {(r[0], r[1]) for r in sink.records if shape.has(f"{r[0]}/{r[1]}")}
    if shape.has("app/events"):
        kept.add(("app", "devices"))
    records = [r for r in sink.records if (r[0], r[1]) in kept]
    if shape.has("web/events"):
        records += [("web", "visitors", a, person) for a, person in sink.visitors.items()]
    _write_csv(out / "truth" / "records.csv", ["source", "entity", "record_id", "person_id"], records)


def _add_spend(sink: Sink, params: ShapeParams, rng: random.Random) -> None:
    """Daily spend per paid campaign: tracked clicks scaled up for untracked ones, times the CPC."""
    for campaign in (c for channel in params.channels for c in channel.campaigns):
        for day in range(params.window_days):
            clicks = math.ceil(sink.ad_clicks[(day, campaign.campaign_id)] * rng.uniform(1.05, 1.3))
            clicks += rng.randint(0, 2)
            sink.add(
                "ads/spend",
                campaign.platform,
                date=(params.start + timedelta(days=day)).isoformat(),
                platform=campaign.platform,
                campaign_id=campaign.campaign_id,
                campaign_name=campaign.campaign_name,
                utm_source=campaign.utm_source,
                utm_medium=campaign.utm_medium,
                utm_campaign=campaign.utm_campaign,
                impressions=round(clicks / campaign.click_through_rate * rng.uniform(0.9, 1.1)),
                clicks=clicks,
                spend=f"{clicks * campaign.cost_per_click * rng.uniform(0.8, 1.2):.2f}",
                currency=params.currency,
            )


def _write_csv(path: Path, header: list[str], rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mercator.demo.shapes", description=__doc__.split("\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES))
    parser.add_argument("--out", type=Path, help="landing directory to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--people", type=int, help="number of persons (default: the shape's)")
    parser.add_argument("--list", action="store_true", help="list the shapes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for shape in SHAPES.values():
            print(f"{shape.name:16} {shape.about}")
        return 0
    if not args.shape or not args.out:
        parser.error("--shape and --out are required (or --list)")
    shape = SHAPES[args.shape]
    if args.people is not None:
        shape = replace(shape, people=args.people)
    generate(shape, args.out, args.seed)
    print(f"wrote shape {shape.name} ({shape.people} persons) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
