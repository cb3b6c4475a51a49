"""Every parameter the demo generator simulates with; written to truth/params.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import cached_property


@dataclass(frozen=True)
class PaidCampaign:
    """An ad campaign: the touchpoint's utm fields and the spend it costs per click."""

    platform: str
    campaign_id: str
    campaign_name: str
    utm_source: str
    utm_medium: str
    cost_per_click: float
    click_through_rate: float

    @property
    def utm_campaign(self) -> str:
        return self.campaign_name.lower().replace(" - ", "_").replace(" ", "_")


@dataclass(frozen=True)
class Channel:
    """A marketing channel a session can arrive from.

    `effect` is the channel's conversion effect: a journey converts with probability
    1 - (1 - baseline) * prod(1 - effect) over its touchpoints. `exposure` is the
    relative weight with which a touchpoint comes from this channel (among the
    channels available to the person at that time).
    """

    name: str
    effect: float
    exposure: float
    campaigns: tuple[PaidCampaign, ...] = ()


CHANNELS: tuple[Channel, ...] = (
    Channel(
        "Paid Search",
        0.40,
        0.17,
        (
            PaidCampaign("google_ads", "gads-1001", "Search - Brand", "google", "cpc", 0.45, 0.08),
            PaidCampaign("google_ads", "gads-1002", "Search - Generic", "google", "cpc", 1.20, 0.04),
        ),
    ),
    Channel("Organic Search", 0.25, 0.20),
    Channel(
        "Paid Social",
        0.10,
        0.16,
        (
            PaidCampaign(
                "meta_ads", "meta-2001", "Prospecting - Broad", "facebook", "paid_social", 0.70, 0.012
            ),
            PaidCampaign(
                "meta_ads", "meta-2002", "Retargeting - Cart", "instagram", "paid_social", 0.90, 0.02
            ),
            PaidCampaign(
                "tiktok_ads", "tt-3001", "Awareness - Creators", "tiktok", "paid_social", 0.50, 0.009
            ),
        ),
    ),
    Channel(
        "Display",
        0.05,
        0.09,
        (PaidCampaign("google_ads", "gads-1003", "Display - Retargeting", "google", "display", 0.35, 0.004),),
    ),
    Channel("Email", 0.30, 0.12),
    Channel("SMS", 0.20, 0.05),
    Channel("Push", 0.18, 0.05),
    Channel("Direct", 0.05, 0.11),
    Channel("Referral", 0.20, 0.05),
)

CHANNEL_BY_NAME = {c.name: c for c in CHANNELS}


@dataclass(frozen=True)
class DemoParams:
    """Generator parameters. Rates are per day; amounts in USD."""

    n_customers: int = 1000
    seed: int = 42
    end_date: str = "2026-10-31"
    years: int = 2
    malformed_share: float = 0.0
    currency: str = "USD"
    default_country: str = "US"
    # MBG/NBD purchase process (Batislam, Denizel & Filiztekin 2007): lambda ~ Gamma(r, rate alpha)
    # per day, dropout p ~ Beta(a, b) after every purchase, the first included; first purchase at
    # acquisition. (Named bgnbd_*: the parameters are BG/NBD's, as are their meanings.)
    bgnbd_r: float = 0.4
    bgnbd_alpha: float = 120.0
    bgnbd_a: float = 0.8
    bgnbd_b: float = 2.5
    # Gamma-Gamma spend: nu ~ Gamma(q, rate gamma) per person, gross order value ~ Gamma(p, rate nu).
    gg_p: float = 6.0
    gg_q: float = 3.5
    gg_gamma: float = 15.0
    prospect_share: float = 0.25
    pos_share: float = 0.30
    register_share: float = 0.65
    foreign_share: float = 0.04
    shared_device_share: float = 0.005
    duplicate_contact_share: float = 0.04
    guest_contact_share: float = 0.5
    loyalty_share: float = 0.5
    app_user_share: float = 0.35
    # Order outcomes.
    cancelled_share: float = 0.03
    refunded_share: float = 0.04
    partially_refunded_share: float = 0.03
    coupon_share: float = 0.2
    # Junk identifiers typed instead of a person's own.
    test_email_share: float = 0.02
    store_phone_share: float = 0.15
    noemail_share: float = 0.05
    # Attribution: journeys of 1 + Poisson(extra) touchpoints; conversion as in Channel.
    journey_extra_touch_mean: float = 1.0
    # Share of journeys that close with a Direct return visit (little effect of its own: the
    # journey's earlier channels did the work), which last-touch attribution over-credits.
    direct_return_share: float = 0.5
    conversion_baseline: float = 0.03
    channels: tuple[Channel, ...] = CHANNELS
    # Messaging.
    newsletter_sends_per_month: float = 0.6
    sms_sends_per_month: float = 0.2
    email_unsubscribe_rate_per_year: float = 0.08
    sms_stop_rate_per_year: float = 0.06
    webhook_retry_share: float = 0.01

    @cached_property
    def start(self) -> date:
        end = date.fromisoformat(self.end_date)
        return end.replace(year=end.year - self.years) + timedelta(days=1)

    @cached_property
    def window_days(self) -> int:
        return (date.fromisoformat(self.end_date) - self.start).days + 1

    def conversion_probability(self, channels: list[str]) -> float:
        miss = 1.0 - self.conversion_baseline
        for name in channels:
            miss *= 1.0 - CHANNEL_BY_NAME[name].effect
        return 1.0 - miss

    def to_json_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["start_date"] = self.start.isoformat()
        data["window_days"] = self.window_days
        data["purchase_process"] = {
            "model": "MBG/NBD",
            "r": self.bgnbd_r,
            "alpha": self.bgnbd_alpha,
            "a": self.bgnbd_a,
            "b": self.bgnbd_b,
            "time_unit": "day",
            "acquisition": "first purchase uniform over the window",
        }
        data["spend_process"] = {
            "model": "Gamma-Gamma",
            "p": self.gg_p,
            "q": self.gg_q,
            "gamma": self.gg_gamma,
            "amount": "gross order total_amount before discount, USD",
            "expected_order_value": self.gg_p * self.gg_gamma / (self.gg_q - 1),
        }
        data["attribution"] = {
            "model": "journey converts with 1 - (1 - baseline) * prod(1 - effect[channel])",
            "baseline": self.conversion_baseline,
            "journey_touchpoints": f"1 + Poisson({self.journey_extra_touch_mean})",
            "direct_return_share": self.direct_return_share,
            "effects": {c.name: c.effect for c in self.channels},
            "exposure": {c.name: c.exposure for c in self.channels},
        }
        return data
