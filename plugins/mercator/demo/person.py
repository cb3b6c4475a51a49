"""One person's simulated life written as landing rows: orders, store sales, CRM, web, app, email, SMS."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from math import log
from typing import TYPE_CHECKING

from mercator.demo import reference as ref
from mercator.demo.formatting import Clock, hex_id, typed_email, typed_phone
from mercator.demo.identities import Identity, WebDevice
from mercator.demo.messaging import Messaging
from mercator.demo.params import CHANNEL_BY_NAME, CHANNELS, DemoParams
from mercator.demo.processes import pick, poisson_small, sample_journey, weighted

if TYPE_CHECKING:
    from mercator.demo.batch import Sink

JOURNEY_LOOKBACK_DAYS = 60.0
PAID = ("Paid Search", "Paid Social", "Display")
PAID_REFERRER = {
    "google": "https://www.google.com/",
    "facebook": "https://m.facebook.com/",
    "instagram": "https://l.instagram.com/",
    "tiktok": "https://www.tiktok.com/",
}
# Per paid campaign: the landing URL's query up to its click id, and referrer..utm_campaign as CSV.
CAMPAIGN_TAGS = {
    c.campaign_id: (
        f"?utm_source={c.utm_source}&utm_medium={c.utm_medium}&utm_campaign={c.utm_campaign}"
        f"&{ {'google': 'gclid', 'tiktok': 'ttclid'}.get(c.utm_source, 'fbclid')}=",
        f"{PAID_REFERRER[c.utm_source]},{c.utm_source},{c.utm_medium},{c.utm_campaign}",
    )
    for channel in CHANNELS
    for c in channel.campaigns
}
NO_REFERRAL = ",,,,,,"  # referrer, utm_source, utm_medium, utm_campaign, utm_content, utm_term, click_id
MINUTE = 1 / 1440
# Ads consent of a CRM contact (granted, unknown, revoked), drawn from the person's own stream so
# that adding it changed nothing else the generator writes.
ADS_CONSENT_WEIGHTS = (0.55, 0.3, 0.15)
CONSENTS = ("granted", "unknown", "revoked")
UNKNOWN_CONSENTS = "unknown,unknown,unknown,unknown"  # email, sms, push, ads


@dataclass
class Contact:
    contact_id: str
    email: str | None
    phone: str | None
    created_at: float
    with_profile: bool


class Life:
    """Generates one person's records in time order; `ids` numbers every id the person needs."""

    def __init__(
        self,
        rng: random.Random,
        params: DemoParams,
        clock: Clock,
        sink: Sink,
        identity: Identity,
        index: int,
        shared_device: WebDevice | None,
    ) -> None:
        self.rng, self.p, self.clock, self.out, self.me = rng, params, clock, sink, identity
        self.index = index
        self.serial = 0
        self.shared_device = shared_device
        self.msg = Messaging(rng, params, clock, sink)
        self.contact: Contact | None = None
        self.consent = {"email": "unknown", "sms": "unknown", "push": "unknown", "ads": "unknown"}
        self.stop_at = {"email": math.inf, "sms": math.inf}
        self.contact_at = math.inf
        self.devices_used: set[str] = set()
        self.wants_newsletter = False

    # -- ids ---------------------------------------------------------------------------------
    def serial_next(self) -> int:
        """A per-person serial; (index, serial) numbers every id the person needs, unique in the run."""
        self.serial += 1
        return self.serial

    def next_id(self) -> str:
        return hex_id(self.index * 4096 + self.serial_next())

    # -- availability of channels ----------------------------------------------------------------
    def available_channels(self, t: float) -> tuple[list[str], list[float]]:
        """Channels that can reach the person at t, with their exposures as cumulative weights."""
        names, weights, total = [], [], 0.0
        for channel in self.p.channels:
            name = channel.name
            if name == "Email" and not (
                self.consent["email"] == "granted" and self.contact_at < t and t < self.stop_at["email"]
            ):
                continue
            if name == "SMS" and not (
                self.consent["sms"] == "granted"
                and self.contact_at < t
                and t < self.stop_at["sms"]
                and self.me.phones
            ):
                continue
            if name == "Push" and not (
                self.consent["push"] == "granted"
                and self.me.app_devices
                and self.me.registered_at is not None
                and self.me.registered_at < t
            ):
                continue
            names.append(name)
            total += channel.exposure
            weights.append(total)
        return names, weights

    # -- sessions ----------------------------------------------------------------------------------
    def session(self, t: float, channel: str, order: dict[str, object] | None = None) -> str:
        """A web or app session starting at t from `channel`; returns 'web' or 'app'."""
        me, rng = self.me, self.rng
        logged_in = me.registered_at is not None and me.registered_at <= t
        app = channel == "Push" or (
            channel == "Direct" and logged_in and me.app_devices and rng.random() < 0.5
        )
        if app:
            self.app_session(t, channel, order)
            return "app"
        self.web_session(t, channel, order)
        return "web"

    def landing(self, t: float, channel: str) -> tuple[str, str]:
        """The first page view's page_url and its acquisition fields (referrer, utm_*, click_id, as
        CSV text in web/events column order) for a channel."""
        rng = self.rng
        url = ref.SITE + pick(rng, ref.PAGES)
        if channel in PAID:
            campaign = pick(rng, CHANNEL_BY_NAME[channel].campaigns)
            click_id = f"{rng.getrandbits(96):024x}"
            term = "linen shirt" if channel == "Paid Search" and rng.random() < 0.3 else ""
            content = f"ad_{1 + int(rng.random() * 6)}" if channel != "Paid Search" else ""
            self.out.ad_clicks[(math.floor(t), campaign.campaign_id)] += 1
            query, fields = CAMPAIGN_TAGS[campaign.campaign_id]
            return f"{url}{query}{click_id}", f"{fields},{content},{term},{click_id}"
        if channel == "Organic Search":
            return url, pick(rng, ref.ORGANIC_REFERRERS) + ",,,,,,"
        if channel == "Referral":
            return url, pick(rng, ref.REFERRAL_SITES) + ",,,,,,"
        if channel == "Email":
            name = self.msg.email_campaign(self.clock.date(t)[:7])
            url += f"?utm_source=newsletter&utm_medium=email&utm_campaign={name}"
            self.msg.email_send(
                self.contact.email if self.contact else "", t - rng.expovariate(8.0), name, clicked_url=url
            )
            return url, f",newsletter,email,{name},,,"
        if channel == "SMS":
            name = f"{self.clock.date(t)[:7]}_sms_offer"
            self.msg.sms_send(self.me.phones[0], t - rng.expovariate(24.0), name)
            return f"{url}?utm_source=sms&utm_medium=sms&utm_campaign={name}", f",sms,sms,{name},,,"
        return url, NO_REFERRAL

    def web_session(self, t: float, channel: str, order: dict[str, object] | None) -> None:
        me, rng = self.me, self.rng
        device = (
            self.shared_device if self.shared_device and rng.random() < 0.3 else pick(rng, me.web_devices)
        )
        anonymous_id = device.anonymous_id(rng, t)
        self.out.visitor(anonymous_id, me.person_id)
        logged_in = me.registered_at is not None and me.registered_at <= t
        user_id = me.customer_id if logged_in and rng.random() < 0.5 else ""
        device_type = device.device_type
        rows, days = self.out.table("web/events")
        random_ = rng.random

        def event(name: str, url: str, product: str = "", email: str = "", order_id: str = "",
                  revenue: str = "", referral: str = NO_REFERRAL) -> None:
            """A row: event_id | anonymous_id..event_name | occurred_at | page_url..revenue."""
            nonlocal t
            rows.append((None, f"{anonymous_id},{user_id},{email},{name}", t,
                         f"{url},{referral},{device_type},{order_id},{product},{revenue}"))
            days.append(t)
            t += -log(1.0 - random_()) * 1.5 * MINUTE + 5 / 86400  # Exponential(mean 1.5 min) + 5 s

        url, referral = self.landing(t, channel)
        event("page_view", url, referral=referral)
        for _ in range(1 + poisson_small(rng, 0.5)):
            product = pick(rng, ref.PRODUCTS)[0]
            event("product_view", f"{ref.SITE}/products/{product}", product)
        if order is None:
            if not user_id and logged_in and random_() < 0.2:
                user_id = me.customer_id
                event("login", f"{ref.SITE}/account/login")
            if random_() < 0.25:
                event("add_to_cart", "", pick(rng, ref.PRODUCTS)[0])
            if self.contact is None and self.wants_newsletter:
                self.wants_newsletter = False
                event("form_submit", f"{ref.SITE}/newsletter", email=typed_email(rng, me.emails[0]))
                self.create_contact(t, with_profile=False)
            return
        event("add_to_cart", "", order["first_product"])
        if not user_id and logged_in and not order["registers"]:
            user_id = me.customer_id
            event("login", "")
        event("begin_checkout", f"{ref.SITE}/checkout")
        if order.get("registers"):
            user_id = me.customer_id
            event("sign_up", "", email=order["email"])
        order["anonymous_id"] = anonymous_id
        order["at"] = t
        event("purchase", f"{ref.SITE}/thank-you", order_id=order["order_id"], revenue=order["revenue"])

    def app_session(self, t: float, channel: str, order: dict[str, object] | None) -> None:
        me, rng = self.me, self.rng
        device = pick(rng, me.app_devices)
        if device.device_id not in self.devices_used:
            self.devices_used.add(device.device_id)
            self.out.record("app", "devices", device.device_id, me.person_id)
        logged_in = me.registered_at is not None and me.registered_at <= t
        user_id = me.customer_id if logged_in else ""
        device_id, platform = device.device_id, device.platform
        rows, days = self.out.table("app/events")
        random_ = rng.random

        def event(name: str, campaign: str = "", product: str = "", order_id: str = "", revenue: str = "") -> None:
            """A row: event_id | device_id, user_id, event_name | occurred_at | platform..revenue."""
            nonlocal t
            rows.append(
                (None, f"{device_id},{user_id},{name}", t, f"{platform},{campaign},{order_id},{product},{revenue}")
            )
            days.append(t)
            t += -log(1.0 - random_()) * 1.2 * MINUTE + 3 / 86400

        if channel == "Push":
            event("push_open", campaign=f"{self.clock.date(t)[:7]}_push")
        else:
            event("app_open")
        for _ in range(1 + poisson_small(rng, 0.6)):
            event("product_view", product=pick(rng, ref.PRODUCTS)[0])
        if order is None:
            return
        event("add_to_cart", product=order["first_product"])
        if order.get("registers"):
            user_id = me.customer_id
            event("sign_up")
        order["at"] = t
        event("purchase", order_id=order["order_id"], revenue=order["revenue"])

    # -- journeys --------------------------------------------------------------------------------
    def journeys_before(self, t: float, since: float, order: dict[str, object] | None) -> str | None:
        """Journeys until one converts (rejection sampling of the conversion model); the failed ones
        are the non-converting journeys, spread over the weeks before the purchase at t.

        With `order` None the purchase lies after the window: only journeys inside it are written.
        Returns the platform of the converting session (None when not written).
        """
        rng = self.rng
        names, weights = self.available_channels(t)
        while True:
            path = sample_journey(rng, self.p, names, weights)
            converted = rng.random() < self.p.conversion_probability(path)
            if converted:
                break
            start = max(since, t - JOURNEY_LOOKBACK_DAYS)
            self.journey(rng.uniform(start, t), path, None)
        if order is None and t >= self.p.window_days:
            return None
        return self.journey(t, path, order)

    def journey(self, end: float, path: list[str], order: dict[str, object] | None) -> str | None:
        """Sessions of one journey, the last one at `end` (carrying the order when there is one)."""
        random_ = self.rng.random
        gaps = [-log(1.0 - random_()) for _ in path[1:]]  # Exponential(1 day) between sessions
        t = end - sum(gaps)
        platform = None
        for i, channel in enumerate(path):
            last = i == len(path) - 1
            if t < self.p.window_days:
                platform = self.session(t, channel, order if last else None)
            if not last:
                t += gaps[i]
        return platform

    # -- contacts ----------------------------------------------------------------------------------
    def create_contact(self, t: float, with_profile: bool) -> None:
        me, rng = self.me, self.rng
        self.contact = Contact(
            self.next_id(), me.emails[0], me.phones[0] if me.phones else None, t, with_profile
        )
        self.contact_at = t
        self.consent["email"] = weighted(rng, CONSENTS, (0.6, 0.88, 1.0))
        if me.phones:
            self.consent["sms"] = weighted(rng, CONSENTS, (0.3, 0.9, 1.0))
        if me.app_devices:
            self.consent["push"] = weighted(rng, CONSENTS, (0.55, 0.85, 1.0))
        ads_rng = random.Random(f"mercator-demo/{self.p.seed}/ads-consent/{self.index}")
        self.consent["ads"] = ads_rng.choices(("granted", "unknown", "revoked"), ADS_CONSENT_WEIGHTS)[0]
        per_day = {
            "email": self.p.email_unsubscribe_rate_per_year / 365,
            "sms": self.p.sms_stop_rate_per_year / 365,
        }
        for channel, rate in per_day.items():
            if self.consent[channel] == "granted":
                self.stop_at[channel] = t + rng.expovariate(rate)

    def contact_fields(self, contact: Contact, duplicate: bool = False) -> str:
        """contact_id..customer_id of a CRM row as CSV text, identifiers typed as the contact left them."""
        me, rng = self.me, self.rng
        profile = contact.with_profile
        fields = (
            contact.contact_id,
            typed_email(rng, contact.email) if contact.email else "",
            typed_phone(rng, contact.phone) if contact.phone else "",
            me.first_name if profile or rng.random() < 0.5 else "",
            me.last_name if profile or rng.random() < 0.4 else "",
            me.country if profile else "",
            me.city if profile and rng.random() < 0.9 else "",
            me.birth_date if profile and rng.random() < 0.6 else "",
            "" if duplicate else me.loyalty_id or "",
            "" if duplicate else me.customer_id or "",
        )
        return ",".join(fields)

    def write_contacts(self) -> None:
        """The CRM export (state before consent changes), later consent updates, and duplicates.

        Rows in segments: contact_id..customer_id | created_at | updated_at | email_consent..ads_consent
        | consent_updated_at.
        """
        contact, me, rng, end = self.contact, self.me, self.rng, self.p.window_days
        if contact is None:
            return
        self.out.record("crm", "contacts", contact.contact_id, me.person_id)
        rows, deliveries = self.out.table("crm/contacts")
        first_seen = contact.created_at
        known_at = max(first_seen, me.registered_at or first_seen)
        consent = dict(self.consent)
        changes = sorted((at, channel) for channel, at in self.stop_at.items() if at < end)
        for _, channel in changes:
            consent[channel] = "granted"
        fields = self.contact_fields(contact)
        rows.append((fields, first_seen, known_at, ",".join(consent.values()), first_seen))
        deliveries.append("01_export")
        for at, channel in changes:
            consent[channel] = "revoked"
            rows.append((fields, first_seen, max(at, known_at), ",".join(consent.values()), at))
            deliveries.append("02_updates")
        if rng.random() < self.p.duplicate_contact_share:
            created = rng.uniform(first_seen, end)
            email = me.emails[-1] if rng.random() < 0.6 else None
            duplicate = Contact(
                self.next_id(), email, None if email else (me.phones or [None])[0], created, False
            )
            if duplicate.email or duplicate.phone:
                rows.append((self.contact_fields(duplicate, True), created, created, UNKNOWN_CONSENTS, created))
                deliveries.append("01_export")
                self.out.record("crm", "contacts", duplicate.contact_id, me.person_id)
