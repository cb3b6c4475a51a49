"""Signed requests as SendGrid and Twilio make them, and the landing rows they should become."""

from __future__ import annotations

import base64
import http.client
import json
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mercator.events.verify import SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP, TWILIO_SIGNATURE
from twilio.request_validator import RequestValidator

AUTH_TOKEN = "twilio-test-auth-token"
KINDS = ("processed", "delivered", "open", "click", "bounce", "unsubscribe")


class SendGridSigner:
    """A P-256 key pair as the Event Webhook's; `public_key` is base64 DER, as SendGrid shows it."""

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        der = self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Signature over timestamp + raw body, as SendGrid signs."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SENDGRID_SIGNATURE: base64.b64encode(signature).decode(),
            SENDGRID_TIMESTAMP: stamp,
            "Content-Type": "application/json",
        }


def sendgrid_events(prefix: str, n: int) -> list[dict]:
    """`n` Event Webhook objects with ids `<prefix>-<i>`."""
    now = int(time.time())
    return [
        {
            "email": f"user{i}@example.com",
            "timestamp": now - i % 600,
            "event": KINDS[i % len(KINDS)],
            "sg_event_id": f"{prefix}-{i}",
            "sg_message_id": f"msg{i // 3}.filter",
            "category": ["spring"],
            **({"url": f"https://shop.example.com/p/{i}"} if KINDS[i % len(KINDS)] == "click" else {}),
            **({"type": "bounce", "reason": "550 5.1.1 unknown user"} if KINDS[i % len(KINDS)] == "bounce" else {}),
        }
        for i in range(n)
    ]


def post(url: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST") -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post_sendgrid(base_url: str, signer: SendGridSigner, events: list[dict], timestamp: int | None = None) -> int:
    body = json.dumps(events).encode()
    return post(f"{base_url}/sendgrid/events", body, signer.headers(body, timestamp))[0]


def post_twilio(
    base_url: str, path: str, params: dict[str, str], token: str = AUTH_TOKEN, signed_url: str | None = None
) -> int:
    """A form post signed for `signed_url` (default: the URL posted to) with `token`."""
    url = f"{base_url}{path}"
    signature = RequestValidator(token).compute_signature(signed_url or url, params)
    headers = {TWILIO_SIGNATURE: signature, "Content-Type": "application/x-www-form-urlencoded"}
    return post(url, urlencode(params).encode(), headers)[0]


def landing_rows(landing: Path, entity: str) -> list[dict]:
    """Every row of the entity's delivery files (the names the extractor reads)."""
    return [
        json.loads(line)
        for path in sorted((landing / entity).glob("*.jsonl"))
        if not path.name.startswith(".")
        for line in path.read_text().splitlines()
        if line
    ]
