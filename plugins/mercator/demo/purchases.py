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
    poisson_small,
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
    """The order row (segments: order_id..anonymous_id | ordered_at | total_amount..sales_channel |
    updated_at), its items, and its re-delivery when cancelled or refunded later."""
    rng, p, out, me = life.rng, life.p, life.out, life.me
    t: float = order["at"]  # type: ignore[assignment]
    cents: int = order["cents"]  # type: ignore[assignment]
    discount: int = order["discount"]  # type: ignore[assignment]
    order_id = order["order_id"]
    customer_id = me.customer_id if me.registered_at is not None else ""
    head = f"{order_id},{customer_id},{order['email'] or ''},{order['phone'] or ''},{order['anonymous_id'] or ''}"
    amounts = f"{_money(cents)},{p.currency},{_money(discount)},{order['coupon'] or ''}"
    rows, days = out.table("shop/orders")
    rows.append((head, t, f"{amounts},paid,0.00,{platform}", t))
    days.append(t)
    out.record("shop", "orders", str(order_id), me.person_id)
    items, item_days = out.table("shop/order_items")
    for number, ((quantity, unit), product) in enumerate(order["items"], start=1):  # type: ignore[arg-type]
        items.append((f"{order_id},{number},{product[0]},{product[1]},{product[2]},{quantity},{_money(unit)}",))
        item_days.append(t)
    roll = rng.random()
    if roll < p.cancelled_share:
        status, changed, refund = "cancelled", t + rng.uniform(0.01, 0.5), ""
    elif roll < p.cancelled_share + p.refunded_share:
        status, changed, refund = "refunded", t + 2 + rng.expovariate(1 / 10), _money(cents - discount)
    elif roll < p.cancelled_share + p.refunded_share + p.partially_refunded_share:
        status, changed = "partially_refunded", t + 2 + rng.expovariate(1 / 10)
        refund = _money(max(1, round((cents - discount) * rng.uniform(0.1, 0.7))))
    else:
        return
    if changed < p.window_days:
        rows.append((head, t, f"{amounts},{status},{refund},{platform}", changed))
        days.append(changed)


def write_store_sale(life: Life, t: float, cents: int, loyal: bool) -> None:
    """A POS transaction identified by loyalty card, a typed phone or email, a junk value, or nothing."""
    rng, p, me, out = life.rng, life.p, life.me, life.out
    store_id, store_phone = STORE_BY_CITY.get(me.city) or pick(rng, ref.STORES)
    if rng.random() < 0.15:
        store_id, store_phone = pick(rng, ref.STORES)
    loyalty = phone = email = ""
    if loyal and me.loyalty_id is None:
        me.loyalty_id = f"LY{scrambled(life.index, 10**10):010d}"
        loyalty = me.loyalty_id
        phone = typed_phone(rng, me.phones[0]) if me.phones else ""
    elif me.loyalty_id and rng.random() < 0.85:
        loyalty = me.loyalty_id
        phone = typed_phone(rng, me.phones[0]) if me.phones and rng.random() < 0.2 else ""
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
    rows, days = out.table("pos/transactions")  # transaction_id..email | occurred_at | total_amount..status
    rows.append((f"{transaction_id},{store_id},{loyalty},{phone},{email}", t, f"{_money(cents)},{p.currency},{status}"))
    days.append(t)
    out.record("pos", "transactions", transaction_id, me.person_id)


def buyer_life(life: Life, history: PurchaseHistory, nu: float) -> None:
    """Purchases at the MBG/NBD times, each preceded by journeys; shop or store per order."""
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
        arrival + rng.uniform(0, min(180.0, p.window_days - arrival)) for _ in range(1 + poisson_small(rng, 1.0))
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
