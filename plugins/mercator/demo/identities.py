"""A person's identifiers: names, emails, phones, accounts, devices and rotating web cookies."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field

from mercator.demo import reference as ref
from mercator.demo.formatting import scrambled, uuid_from
from mercator.demo.params import DemoParams
from mercator.demo.processes import pick, uniform_int, weighted

COOKIE_LIFETIME_DAYS = 120.0
COOKIE_HISTORY_DAYS = 200.0  # cookies in use at the window start were set up to this long before
# A person's browsers: the first 1 to 3 of a random order of the device types (a uniform sample).
DEVICE_ORDERS = tuple(itertools.permutations(("desktop", "mobile", "tablet")))


@dataclass
class WebDevice:
    """A browser: its cookie (anonymous_id) is replaced every few months (cleared or expired)."""

    device_type: str
    renewals: list[float]
    cookies: dict[int, str] = field(default_factory=dict)

    def anonymous_id(self, rng: random.Random, t: float) -> str:
        epoch = bisect.bisect_right(self.renewals, t)
        if epoch not in self.cookies:
            self.cookies[epoch] = uuid_from(rng)
        return self.cookies[epoch]


@dataclass
class AppDevice:
    device_id: str
    platform: str


@dataclass
class Identity:
    person_id: str
    first_name: str
    last_name: str
    country: str
    city: str
    birth_date: str
    emails: list[str]
    phones: list[str]
    web_devices: list[WebDevice]
    app_devices: list[AppDevice]
    customer_id: str | None = None
    registered_at: float | None = None
    loyalty_id: str | None = None


def _emails(rng: random.Random, index: int, first: str, last: str) -> list[str]:
    number = scrambled(index, 10_000_000)
    personal = pick(rng, (f"{first}.{last}{number}", f"{first[0]}{last}{number}", f"{first}{number}"))
    emails = [f"{personal}@{pick(rng, ref.EMAIL_DOMAINS)}"]
    if rng.random() < 0.3:
        emails.append(f"{first}.{last}.{number}@{pick(rng, ref.WORK_DOMAINS)}")
    return emails


def _phones(rng: random.Random, index: int, country: str, area: str) -> list[str]:
    count = weighted(rng, (0, 1, 2), (0.15, 0.8, 1.0))
    phones = []
    for k in range(count):
        key = index * 2 + k
        if country == "GB":
            phones.append(f"+447{scrambled(key, 1_000_000_000):09d}")
        else:
            phones.append(
                f"+1{area if k == 0 else pick(rng, ref.US_CITIES)[1]}{6_000_000 + scrambled(key, 4_000_000)}"
            )
    return phones


def _web_devices(rng: random.Random, window_days: int) -> list[WebDevice]:
    devices = []
    for device_type in pick(rng, DEVICE_ORDERS)[: weighted(rng, (1, 2, 3), (0.5, 0.9, 1.0))]:
        renewals, t = [], -COOKIE_HISTORY_DAYS
        while t < window_days:
            t -= math.log(1.0 - rng.random()) * COOKIE_LIFETIME_DAYS  # Exponential(mean lifetime)
            renewals.append(t)
        devices.append(WebDevice(device_type, renewals))
    return devices


def make_identity(rng: random.Random, index: int, params: DemoParams) -> Identity:
    first, last = pick(rng, ref.FIRST_NAMES), pick(rng, ref.LAST_NAMES)
    if rng.random() < params.foreign_share:
        country, city, area = "GB", pick(rng, ref.GB_CITIES), ""
    else:
        country = params.default_country
        city, area = pick(rng, ref.US_CITIES)
    year = uniform_int(rng, 1950, 2006)
    apps = 0
    if rng.random() < params.app_user_share:
        apps = 1 if rng.random() < 0.85 else 2
    return Identity(
        person_id=f"P{index:08d}",
        first_name=first.title(),
        last_name=last.title(),
        country=country,
        city=city,
        birth_date=f"{year}-{uniform_int(rng, 1, 12):02d}-{uniform_int(rng, 1, 28):02d}",
        emails=_emails(rng, index, first, last),
        phones=_phones(rng, index, country, area),
        web_devices=_web_devices(rng, params.window_days),
        app_devices=[AppDevice(uuid_from(rng).upper(), pick(rng, ("ios", "android"))) for _ in range(apps)],
    )
