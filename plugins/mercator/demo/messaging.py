"""Email (SendGrid event webhook) and SMS (Twilio status callback) traffic for one person."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from mercator.demo import reference as ref
from mercator.demo.formatting import Clock
from mercator.demo.params import DemoParams
from mercator.demo.processes import pick, poisson

if TYPE_CHECKING:
    from mercator.demo.batch import Sink
    from mercator.demo.person import Contact

SECOND = 1 / 86400
DAYS_PER_MONTH = 30.4


class Messaging:
    def __init__(self, rng: random.Random, params: DemoParams, clock: Clock, sink: Sink) -> None:
        self.rng, self.p, self.clock, self.out = rng, params, clock, sink

    def email_campaign(self, month: str) -> str:
        return f"{month}_{pick(self.rng, ('newsletter', 'promo'))}"

    def _email_event(
        self, email: str, t: float, event: str, message_id: str, campaign: str, url: str = "", reason: str = "",
        kind: str = "",
    ) -> None:
        """One webhook event row (sent twice now and then: a retry, with its own sg_event_id)."""
        category = campaign.rsplit("_", 1)[-1]
        asm_group_id = 1 if category == "newsletter" else 2
        # email | timestamp | event | sg_event_id | sg_message_id..campaign
        row = (email, t, event, None, f"{message_id},{category},{url},{reason},{kind},{asm_group_id},{campaign}")
        rows, days = self.out.table("email/events")
        rows.append(row)
        days.append(t)
        if self.rng.random() < self.p.webhook_retry_share:
            rows.append(row)
            days.append(t)

    def email_send(
        self, email: str, t: float, campaign: str, clicked_url: str | None = None, unsubscribe: bool = False
    ) -> None:
        """One message: processed, then delivered (or bounced), opens, a click, an unsubscribe."""
        rng = self.rng
        if t >= self.p.window_days:
            return
        message_id = f"{rng.getrandbits(88):022x}.recvd-{rng.randint(100, 999)}"
        self._email_event(email, t, "processed", message_id, campaign)
        t += rng.uniform(2, 60) * SECOND
        if clicked_url is None and not unsubscribe:
            roll = rng.random()
            if roll < 0.02:
                self._email_event(
                    email,
                    t,
                    "bounce",
                    message_id,
                    campaign,
                    kind="bounce",
                    reason="550 5.1.1 The email account that you tried to reach does not exist",
                )
                return
            if roll < 0.03:
                self._email_event(email, t, "deferred", message_id, campaign, reason="421 try again later")
                t += rng.uniform(300, 3600) * SECOND
        self._email_event(email, t, "delivered", message_id, campaign, reason="250 OK")
        if clicked_url or unsubscribe or rng.random() < 0.3:
            t += rng.expovariate(1 / 0.05) + SECOND
            self._email_event(email, t, "open", message_id, campaign)
        if clicked_url or (not unsubscribe and rng.random() < 0.03):
            t += rng.uniform(5, 120) * SECOND
            url = clicked_url or f"{ref.SITE}/?utm_source=newsletter&utm_medium=email&utm_campaign={campaign}"
            self._email_event(email, t, "click", message_id, campaign, url=url)
        if unsubscribe:
            self._email_event(email, t + rng.uniform(5, 60) * SECOND, "unsubscribe", message_id, campaign)
        elif rng.random() < 0.001:
            self._email_event(email, t + rng.uniform(5, 60) * SECOND, "spamreport", message_id, campaign)

    def sms_send(self, phone: str, t: float, campaign: str) -> None:
        """Twilio status callbacks of one outbound message: queued, sent, delivered (or not)."""
        rng = self.rng
        if t >= self.p.window_days:
            return
        sid = f"SM{rng.getrandbits(128):032x}"
        roll = rng.random()
        final = (
            ("delivered", "")
            if roll < 0.95
            else ("undelivered", "30003")
            if roll < 0.98
            else ("failed", "30005")
        )
        rows, days = self.out.table("sms/events")
        for status, error in (("queued", ""), ("sent", ""), final):
            rows.append((f"{sid},{phone},{ref.SMS_SENDER},{status},{error}", t, f",{campaign}"))  # ..| timestamp |..
            days.append(t)
            t += rng.uniform(1, 20) * SECOND

    def sms_stop(self, phone: str, t: float) -> None:
        self.out.add(
            "sms/events",
            t,
            MessageSid=f"SM{self.rng.getrandbits(128):032x}",
            To=ref.SMS_SENDER,
            From=phone,
            MessageStatus="received",
            timestamp=t,
            Body=pick(self.rng, ("STOP", "Stop", "stop ")),
        )

    def background(
        self, contact: Contact | None, consent: dict[str, str], stop_at: dict[str, float], phones: list[str]
    ) -> None:
        """Newsletters and SMS offers while consent lasts; the unsubscribe / STOP that ends it."""
        if contact is None:
            return
        rng, end = self.rng, self.p.window_days
        start = contact.created_at
        plans = (
            ("email", self.p.newsletter_sends_per_month, contact.email),
            ("sms", self.p.sms_sends_per_month, phones[0] if phones else None),
        )
        for channel, per_month, address in plans:
            if consent[channel] != "granted" or address is None:
                continue
            stop = min(stop_at[channel], end)
            for t in sorted(
                rng.uniform(start, stop)
                for _ in range(poisson(rng, per_month * (stop - start) / DAYS_PER_MONTH))
            ):
                month = self.clock.date(t)[:7]
                if channel == "email":
                    self.email_send(address, t, self.email_campaign(month))
                else:
                    self.sms_send(address, t, f"{month}_sms_offer")
            if math.isfinite(stop_at[channel]) and stop_at[channel] < end:
                t = stop_at[channel]
                if channel == "email":
                    self.email_send(
                        address, t - 0.01, self.email_campaign(self.clock.date(t)[:7]), unsubscribe=True
                    )
                else:
                    self.sms_stop(address, t)
