"""One person of a landing shape: the demo's identities, orders, store sales, sessions and CRM rows,
with purchase times, guest checkouts and consents set by the shape instead of the demo's processes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from mercator.demo.formatting import Clock, hex_id
from mercator.demo.identities import make_identity
from mercator.demo.params import DemoParams
from mercator.demo.person import Life
from mercator.demo.processes import order_value_cents, spend_scale, weighted
from mercator.demo.purchases import draft_order, write_order, write_store_sale

if TYPE_CHECKING:
    from mercator.demo.batch import Sink
    from mercator.demo.shapes import Shape

SESSION_DAYS = 0.05  # room left after a purchase time for the checkout session's clicks


@dataclass(frozen=True)
class ShapeParams(DemoParams):
    """Demo parameters over the shape's window (start_date..end_date), without junk identifiers."""

    start_date: str = "2026-01-01"
    test_email_share: float = 0.0
    store_phone_share: float = 0.0
    noemail_share: float = 0.0

    @cached_property
    def start(self) -> date:
        return date.fromisoformat(self.start_date)


def simulate(shape: Shape, params: ShapeParams, clock: Clock, sink: Sink, seed: int, index: int) -> None:
    """Write person `index`: a buyer (orders at uniform times) or a visitor; a CRM contact if they have one.

    Each person keeps one email and at most one phone, so every identified record of a person
    resolves to one customer (truth/records.csv is then exact for customer counts).
    """
    rng = random.Random(f"mercator-shapes/{shape.name}/{seed}/{index}")
    me = make_identity(rng, index, params)
    me.emails, me.phones = me.emails[:1], me.phones[:1]
    life = Life(rng, params, clock, sink, me, index, None)
    buyer = shape.sells and rng.random() < shape.buyer_share
    if buyer:
        _buy(shape, life)
    else:
        _browse(life)
        if rng.random() < shape.contact_share:
            life.create_contact(rng.uniform(0, params.window_days), with_profile=False)
    if shape.consent_unknown and life.contact is not None:
        life.consent = dict.fromkeys(life.consent, "unknown")
        life.stop_at = {channel: float("inf") for channel in life.stop_at}
    life.write_contacts()
    life.msg.background(life.contact, life.consent, life.stop_at, me.phones)


def _purchase_times(shape: Shape, rng: random.Random, window_days: int) -> list[float]:
    latest = window_days - SESSION_DAYS
    return sorted(rng.uniform(0, latest) for _ in range(rng.randint(*shape.orders)))


def _buy(shape: Shape, life: Life) -> None:
    rng, p = life.rng, life.p
    times = _purchase_times(shape, rng, p.window_days)
    in_store = [shape.has("pos/transactions") and rng.random() < shape.pos_share for _ in times]
    if not shape.has("shop/orders"):
        in_store = [True] * len(times)
    account = rng.random() < shape.account_share
    loyal = rng.random() < p.loyalty_share
    leaves_email = account or rng.random() < shape.guest_email_share
    wants_contact = account or (loyal and any(in_store)) or rng.random() < p.guest_contact_share
    nu = spend_scale(rng, p)
    for k, (t, store) in enumerate(zip(times, in_store, strict=True)):
        cents = order_value_cents(rng, p, nu)
        if store:
            write_store_sale(life, t, cents, loyal)
        else:
            _online_order(life, t, cents, first=k == 0, account=account, leaves_email=leaves_email)
        if k == 0 and wants_contact:
            life.create_contact(t, with_profile=account or loyal)


def _online_order(life: Life, t: float, cents: int, first: bool, account: bool, leaves_email: bool) -> None:
    """A shop order; a guest leaves an email (and checks out in a tracked session) or nothing at all."""
    rng, me = life.rng, life.me
    order = draft_order(life, t, cents, first=first, registers=account)
    if order["registers"]:
        me.customer_id = f"cus_{hex_id(life.index)}"
        me.registered_at = t
    if not leaves_email:
        order["email"] = order["phone"] = None
        write_order(life, order, "web")
        return
    if not account:
        order["phone"] = None
    names, weights = life.available_channels(t)
    if rng.random() < 0.5 and t > 1:
        life.session(t - rng.uniform(0.5, min(t, 20.0)), weighted(rng, names, weights), None)
    write_order(life, order, life.session(t, weighted(rng, names, weights), order))


def _browse(life: Life) -> None:
    """A visitor who does not buy: one to three sessions."""
    rng = life.rng
    for t in sorted(rng.uniform(0, life.p.window_days - SESSION_DAYS) for _ in range(rng.randint(1, 3))):
        names, weights = life.available_channels(t)
        life.session(t, weighted(rng, names, weights), None)
