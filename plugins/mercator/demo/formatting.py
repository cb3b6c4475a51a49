"""How identifiers, ids and times are written: typed the way people and systems type them."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from mercator.demo.processes import pick

US_PHONE_FORMATS = (
    "+1 {a} {e} {s}",
    "({a}) {e}-{s}",
    "{a}.{e}.{s}",
    "001{a}{e}{s}",
    "1-{a}-{e}-{s}",
    "{a}{e}{s}",
    "{a}-{e}-{s}",
    "+1{a}{e}{s}",
    "+1 ({a}) {e}-{s}",
    "{a} {e} {s}",
)
GB_PHONE_FORMATS = ("+44 {m} {s}", "+44{m}{s}", "0044 {m} {s}", "+44 ({m}) {s}")


def typed_email(rng: random.Random, email: str) -> str:
    """An email as typed into a form: random capitalisation, sometimes surrounding spaces."""
    roll = rng.random()
    if roll < 0.55:
        typed = email
    elif roll < 0.8:
        typed = email[:1].upper() + email[1:]
    elif roll < 0.9:
        typed = "".join(ch.upper() if rng.random() < 0.3 else ch for ch in email)
    else:
        typed = email.upper()
    if rng.random() < 0.12:
        typed = pick(rng, (" ", "  ", "")) + typed + pick(rng, (" ", "\t", ""))
    return typed


def typed_phone(rng: random.Random, e164: str) -> str:
    """A phone number in one of the ways people write it; foreign numbers keep their country code."""
    if e164.startswith("+1"):
        national = e164[2:]
        fmt = pick(rng, US_PHONE_FORMATS)
        return fmt.format(a=national[:3], e=national[3:6], s=national[6:])
    national = e164[3:]
    return pick(rng, GB_PHONE_FORMATS).format(m=national[:4], s=national[4:])


def _mix(x: int, bits: int) -> int:
    """An invertible bit mixer on `bits`-bit integers (xor-shift and odd multiply steps)."""
    mask, shift = (1 << bits) - 1, max(1, bits // 2)
    for multiplier in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9):
        x ^= x >> shift
        x = (x * multiplier) & mask
    return x ^ (x >> shift)


def scrambled(n: int, modulus: int) -> int:
    """A bijection of 0..modulus-1 (mixing with cycle walking): ids that look random but never collide."""
    bits = max(2, (modulus - 1).bit_length())
    x = _mix(n, bits)
    while x >= modulus:
        x = _mix(x, bits)
    return x


def hex_id(n: int) -> str:
    """A 13-hex-digit id, unique for every n < 2**52."""
    return f"{scrambled(n, 1 << 52):013x}"


def uuid_from(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


class Clock:
    """Fractional days since the window start: day strings, quarters (delivery labels), times of day.

    Days and times of day ("T13:05:09") are precomputed tables; `tables.TimeFormat` formats
    whole columns of timestamps with them.
    """

    MARGIN_DAYS = 400
    TIMES = [f"T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86400)]

    def __init__(self, start: date, window_days: int) -> None:
        self.start = start
        self.window_days = window_days
        days = range(-self.MARGIN_DAYS, window_days + self.MARGIN_DAYS)
        dates = [start + timedelta(days=d) for d in days]
        self.dates = [d.isoformat() for d in dates]
        self.quarters = [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in dates]
        self.quarter_labels = sorted(set(self.quarters))
        self.epoch = (start - date(1970, 1, 1)).days * 86400

    def date(self, t: float) -> str:
        return self.dates[math.floor(t * 86400) // 86400 + self.MARGIN_DAYS]
