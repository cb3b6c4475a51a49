"""Normalised, SHA-256 hashed contact identifiers for ad platforms' audience files.

Emails are trimmed and lower-cased (Gmail dots kept: neither platform requires removing them).
Phones arrive in E.164 from staging (`normalize_phone`); Google hashes the number with its `+`,
Meta the digits with the country code and no `+`. A value that is neither blank nor valid is
left out, never guessed at.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")

Row = tuple[str, str]  # (email hash, phone hash), "" for a missing one


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normal_email(value: Any) -> str | None:
    """Trimmed and lower-cased; "" when blank, None when not an address."""
    text = "" if value is None else str(value).strip().lower()
    return text if not text or EMAIL.fullmatch(text) else None


def normal_phone(value: Any) -> str | None:
    """The E.164 number, trimmed; "" when blank, None when not E.164."""
    text = "" if value is None else str(value).strip()
    return text if not text or E164.fullmatch(text) else None


def google_phone(e164: str) -> str:
    """Google Customer Match: E.164 with the `+`."""
    return e164


def meta_phone(e164: str) -> str:
    """Meta Custom Audiences: digits only, country code included, no `+`."""
    return e164.removeprefix("+")


def hashed_row(fields: Mapping[str, Any], phone_form: Callable[[str], str]) -> tuple[Row | None, str]:
    """The member's hashed (email, phone) row, or None when it has neither; the reason names
    any identifier left out as invalid."""
    email, phone = normal_email(fields.get("email")), normal_phone(fields.get("phone"))
    invalid = []
    if email is None:
        invalid.append("email is not an address")
    if phone is None:
        invalid.append("phone is not E.164")
    if not email and not phone:
        return None, "; ".join(invalid) or "no email or phone"
    row = (sha256_hex(email) if email else "", sha256_hex(phone_form(phone)) if phone else "")
    return row, "; ".join(f"{problem} (left out)" for problem in invalid)
