"""Buyers and prospects: online orders with items, refunds and coupons; store (POS) sales."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from mercator.demo import reference as ref
from mercator.demo.formatting import Clock, hex_id, scrambled, typed_email, typed_phone
from mercator.demo.identities import WebDevice, make_identity
from mercator.demo.params import DemoParams
from mercator.demo.person import JOURNEY_LOOKBACK_DAYS, Life
from mercator.demo.processes import (
    PurchaseHistory,
    order_value_cents,
    pick,
    poisson,
    purchase_history,
    sample_journey,
    spend_scale,
    split_cents,
)

if TYPE_CHECKING:
    from mercator.demo.batch import Sink

STORE_BY_CITY = {city: store for (city, _), store in zip(ref.US_CITIES, ref.STORES, strict=False)}


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def draft_order(life: Life, t: float, cents: int, first: bool, registers: bool) -> dict[str, object]:
    """An online order before its session: id, amounts, discount and the identifiers typed at checkout."""
    rng, me, p = life.rng, life.me, life.p
    discount, coupon = 0, None
    if rng.random() < p.coupon_share:
        coupon, share = ref.COUPONS[0] if first else pick(rng, ref.COUPONS[1:])
        discount = round(cents * share)
    account = registers or me.customer_id is not None
    if account:
        email = typed_email(rng, me.emails[0])
    elif rng.random() < p.test_email_share:
        email = typed_email(rng, ref.TEST_EMAIL)
    else:
        email = typed_email(rng, pick(rng, me.emails))
    phone = typed_phone(rng, pick(rng, me.phones)) if me.phones and rng.random() < 0.45 else None
    items = split_cents(rng, cents)
    products = [pick(rng, ref.PRODUCTS) for _ in items]
    return {
        "order_id": f"{1_000_000_000_000 + scrambled(life.index * 4096 + life.serial_next(), 10**12)}",
        "cents": cents,
        "discount": discount,
        "coupon": coupon,
        "items": list(zip(items, products, strict=True)),
        "first_product": products[0][0],
        "email": email,
        "phone": phone,
        "registers": registers and me.customer_id is None,
        "revenue": _money(cents - discount),
        "anonymous_id": None,
        "at": t,
    }


def write_order(life: Life, order: dict[str, object], platform: str) -> None:
    rng, p, out, me = life.rng, life.p, life.out, life.me
    t: float = order["at"]  # type: ignore[assignment]
    cents: int = order["cents"]  # type: ignore[assignment]
    discount: int = order["discount"]  # type: ignore[assignment]
    row = {
        "order_id": order["order_id"],
        "customer_id": me.customer_id if me.registered_at is not None else None,
        "email": order["email"],
        "phone": order["phone"],
        "anonymous_id": order["anonymous_id"],
        "ordered_at": t,
        "total_amount": _money(cents),
        "currency": p.currency,
        "discount_amount": _money(discount),
        "coupon_code": order["coupon"],
        "status": "paid",
        "refunded_amount": "0.00",
        "sales_channel": platform,
        "updated_at": t,
    }
    out.add("shop/orders", t, **row)
    out.record("shop", "orders", str(order["order_id"]), me.person_id)
    for number, ((quantity, unit), product) in enumerate(order["items"], start=1):  # type: ignore[arg-type]
        out.add(
            "shop/order_items",
            t,
            order_id=order["order_id"],
            line_number=number,
            product_id=product[0],
            product_name=product[1],
            category=product[2],
            quantity=quantity,
            unit_price=_money(unit),
        )
    roll = rng.random()
    if roll < p.cancelled_share:
        status, changed, refund = "cancelled", t + rng.uniform(0.01, 0.5), None
    elif roll < p.cancelled_share + p.refunded_share:
        status, changed, refund = "refunded", t + 2 + rng.expovariate(1 / 10), cents - discount
    elif roll < p.cancelled_share + p.refunded_share + p.partially_refunded_share:
        status, changed = "partially_refunded", t + 2 + rng.expovariate(1 / 10)
        refund = max(1, round((cents - discount) * rng.uniform(0.1, 0.7)))
    else:
        return
    if changed < p.window_days:
        out.add(
            "shop/orders",
            changed,
            **{
                **row,
                "status": status,
                "updated_at": changed,
                "refunded_amount": _money(refund) if refund is not None else None,
            },
        )


def write_store_sale(life: Life, t: float, cents: int, loyal: bool) -> None:
    """A POS transaction identified by loyalty card, a typed phone or email, a junk value, or nothing."""
    rng, p, me, out = life.rng, life.p, life.me, life.out
    store_id, store_phone = STORE_BY_CITY.get(me.city) or pick(rng, ref.STORES)
    if rng.random() < 0.15:
        store_id, store_phone = pick(rng, ref.STORES)
    loyalty = phone = email = None
    if loyal and me.loyalty_id is None:
        me.loyalty_id = f"LY{scrambled(life.index, 10**10):010d}"
        loyalty = me.loyalty_id
        phone = typed_phone(rng, me.phones[0]) if me.phones else None
    elif me.loyalty_id and rng.random() < 0.85:
        loyalty = me.loyalty_id
        phone = typed_phone(rng, me.phones[0]) if me.phones and rng.random() < 0.2 else None
    else:
        roll = rng.random()
        if roll < 0.25 and me.phones:
            phone = typed_phone(rng, pick(rng, me.phones))
        elif roll < 0.25 + p.store_phone_share:
            phone = typed_phone(rng, store_phone)
        elif roll < 0.4 + p.store_phone_share:
            email = typed_email(rng, pick(rng, me.emails))
        elif roll < 0.4 + p.store_phone_share + p.noemail_share:
            email = typed_email(rng, ref.NO_EMAIL)
    roll = rng.random()
    status = "refunded" if roll < 0.03 else "cancelled" if roll < 0.04 else "paid"
    transaction_id = f"T{hex_id(life.index * 4096 + life.serial_next())}"
    out.add(
        "pos/transactions",
        t,
        transaction_id=transaction_id,
        store_id=store_id,
        loyalty_id=loyalty,
        phone=phone,
        email=email,
        occurred_at=t,
        total_amount=_money(cents),
        currency=p.currency,
        status=status,
    )
    out.record("pos", "transactions", transaction_id, me.person_id)


def buyer_life(life: Life, history: PurchaseHistory, nu: float) -> None:
    """Purchases at the BG/NBD times, each preceded by journeys; shop or store per order."""
    rng, p, me = life.rng, life.p, life.me
    times = history.times
    kinds = ["pos" if rng.random() < p.pos_share else "shop" for _ in times]
    registers = bool(me.app_devices) or rng.random() < p.register_share
    loyal = rng.random() < p.loyalty_share
    wants_contact = (
        (registers and "shop" in kinds) or (loyal and "pos" in kinds) or rng.random() < p.guest_contact_share
    )
    for k, (t, kind) in enumerate(zip(times, kinds, strict=True)):
        since = times[k - 1] if k else t - JOURNEY_LOOKBACK_DAYS
        cents = order_value_cents(rng, p, nu)
        if kind == "shop":
            order = draft_order(life, t, cents, first=k == 0, registers=registers)
            if order["registers"]:
                me.customer_id = f"cus_{hex_id(life.index)}"
                me.registered_at = t
            platform = life.journeys_before(t, since, order)
            write_order(life, order, platform or "web")
        else:
            visit = t - rng.uniform(0.05, 2.0)
            life.journeys_before(visit, since, None)
            write_store_sale(life, t, cents, loyal)
        if k == 0 and wants_contact:
            life.create_contact(t, with_profile=registers or loyal)
    if history.next_time is not None:
        life.journeys_before(history.next_time, times[-1], None)


def prospect_life(life: Life) -> None:
    """A visitor who never buys (out of market): a few journeys; some sign up for the newsletter."""
    rng, p = life.rng, life.p
    arrival = rng.uniform(0, p.window_days)
    life.wants_newsletter = rng.random() < 0.6
    starts = sorted(
        arrival + rng.uniform(0, min(180.0, p.window_days - arrival)) for _ in range(1 + poisson(rng, 1.0))
    )
    for t in starts:
        names, weights = life.available_channels(t)
        life.journey(t, sample_journey(rng, p, names, weights), None)


def simulate_person(
    rng: random.Random,
    params: DemoParams,
    clock: Clock,
    sink: Sink,
    index: int,
    shared_device: WebDevice | None,
) -> WebDevice:
    """Draw a person and write everything they do in the window; returns their main browser."""
    identity = make_identity(rng, index, params)
    life = Life(rng, params, clock, sink, identity, index, shared_device)
    if rng.random() < params.prospect_share:
        prospect_life(life)
    else:
        buyer_life(
            life, purchase_history(rng, params, rng.uniform(0, params.window_days)), spend_scale(rng, params)
        )
    life.write_contacts()
    life.msg.background(life.contact, life.consent, life.stop_at, identity.phones)
    return identity.web_devices[0]
