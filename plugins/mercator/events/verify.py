"""Webhook signatures: SendGrid's ECDSA with the timestamp tolerance its SDK lacks, Twilio's HMAC."""

from __future__ import annotations

from collections.abc import Mapping

from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator, get_signature_algorithm

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
TWILIO_SIGNATURE = "X-Twilio-Signature"
TWILIO_SIGNATURE_SETTINGS = "X-Twilio-Webhooks-Signature-Settings"
TOLERANCE_SECONDS = 300


class Rejected(Exception):
    """A request refused before anything is stored; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class SendGridVerifier:
    """Checks `X-Twilio-Email-Event-Webhook-Signature` with the key SendGrid shows (base64 DER)."""

    def __init__(self, public_key: str) -> None:
        self._webhook = EventWebhook()
        self._key = self._webhook.convert_public_key_to_ecdsa(public_key.strip())

    def verify(self, body: bytes, signature: str | None, timestamp: str | None, now: float) -> None:
        if not signature or not timestamp:
            raise Rejected(401, "missing signature headers")
        try:
            sent = int(timestamp)
        except ValueError:
            raise Rejected(403, "invalid signature timestamp") from None
        if abs(now - sent) > TOLERANCE_SECONDS:
            raise Rejected(403, "signature timestamp more than 5 minutes off")
        try:
            valid = self._webhook.verify_signature(body.decode("utf-8"), signature, timestamp, self._key)
        except ValueError:  # not UTF-8, or a signature that is not base64
            valid = False
        if not valid:
            raise Rejected(403, "invalid signature")


class _Form(dict):
    """Parsed form fields (name -> values) as the validator reads repeated ones (QueryDict's getlist)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


class TwilioVerifier:
    """Checks `X-Twilio-Signature` against the URL Twilio was told to call and the auth token."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def verify(self, url: str, form: Mapping[str, list[str]], headers: Mapping[str, str]) -> None:
        signature = headers.get(TWILIO_SIGNATURE)
        if not signature:
            raise Rejected(401, "missing signature header")
        algorithm = get_signature_algorithm(headers.get(TWILIO_SIGNATURE_SETTINGS))
        if not self._validator.validate(url, _Form(form), signature, algorithm):
            raise Rejected(403, "invalid signature")
