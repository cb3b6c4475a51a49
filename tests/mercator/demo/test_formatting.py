"""Identifiers are typed inconsistently but always normalise back to the person's own value."""

from __future__ import annotations

import random
import re

from mercator.demo.formatting import scrambled, typed_email, typed_phone
from mercator.demo.identities import make_identity
from mercator.demo.params import DemoParams


def normalise_phone(typed: str, default_country_code: str = "1") -> str:
    """E.164 the way the pipeline is expected to do it (digits; 00 -> +; national -> default country)."""
    digits = re.sub(r"\D", "", typed)
    if typed.strip().startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if len(digits) == 11 and digits.startswith(default_country_code):
        return "+" + digits
    return f"+{default_country_code}{digits}"


def test_typed_identifiers_normalise_back() -> None:
    rng = random.Random(1)
    params = DemoParams()
    typed_forms, countries = set(), set()
    for index in range(3000):
        person = make_identity(rng, index, params)
        for email in person.emails:
            assert typed_email(rng, email).strip().lower() == email
        for phone in person.phones:
            typed = typed_phone(rng, phone)
            typed_forms.add(re.sub(r"\d", "9", typed))
            countries.add(phone[:3])
            assert normalise_phone(typed) == phone
    assert len(typed_forms) >= 10
    assert {"+44"} < countries


def test_scrambled_ids_never_collide() -> None:
    for modulus in (4_000_000, 10**7, 10**12, 1 << 52):
        values = [scrambled(n, modulus) for n in range(50_000)]
        assert len(set(values)) == len(values)
        assert all(0 <= v < modulus for v in values)
