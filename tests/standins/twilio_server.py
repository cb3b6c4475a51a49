"""Twilio Programmable Messaging stand-in for tests: message creation, error codes, opt-outs, faults.

    with TwilioStandin(faults=Faults(reset_after_write=0.1, seed=3)) as tw:
        client = tw.sdk_client()  # Client(tw.account_sid, tw.auth_token); client.api.base_url = tw.base_url

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (create) and `GET` on it (list, filtered by
To and From, newest first, paged) are served, with Basic auth (account SID and auth token). Tests
steer recipients through the sets `stopped` (21610), `invalid` (21211) and `landlines` (21614),
or `receive()` an inbound STOP / START. `max_concurrent` answers 429 (code 20429) to requests
beyond that many in flight; `processing_seconds` holds each one to make overlap.
State: `messages` (accepted, in order), `sent_to(number)`, and the counters of `StandinServer`.
"""

from __future__ import annotations

import base64
import math
import random
import re
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.error import HTTPError
from urllib.parse import parse_qs, quote, urlencode

from twilio.http import HttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.standins.standin import Faults, Reply, Request, StandinServer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-standin-auth-token"
SENDER = "+15005550006"
MESSAGING_SERVICE_SID = "MG" + "0" * 32
MAX_BODY_CHARS = 1600
E164 = re.compile(r"\+[1-9]\d{1,14}")
MG_SID = re.compile(r"MG[0-9a-f]{32}")
OPT_OUT = {"STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"}
OPT_IN = {"START", "YES", "UNSTOP"}


def _error(status: int, code: int, message: str) -> Reply:
    return Reply.json(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                               "status": status})


@dataclass
class Message:
    """An accepted message."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status: str
    status_callback: str | None
    date_created: str = field(default_factory=lambda: format_datetime(datetime.now(UTC), usegmt=True))


class TwilioStandin(StandinServer):
    """The Messages resource of activation-apis.md, with Twilio's error codes."""

    ROUTES = (("POST", r"/2010-04-01/Accounts/(?P<account_sid>[^/]+)/Messages\.json", "create_message"),
              ("GET", r"/2010-04-01/Accounts/(?P<account_sid>[^/]+)/Messages\.json", "list_messages"))

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN,
                 senders: tuple[str, ...] = (SENDER,), messaging_services: tuple[str, ...] = (MESSAGING_SERVICE_SID,),
                 max_concurrent: int | None = None, processing_seconds: float = 0.0,
                 faults: Faults | None = None) -> None:
        super().__init__(faults)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.senders = set(senders)
        self.messaging_services = set(messaging_services)
        self.max_concurrent = max_concurrent
        self.processing_seconds = processing_seconds
        self.messages: list[Message] = []
        self.stopped: set[str] = set()
        self.invalid: set[str] = set()
        self.landlines: set[str] = set()
        self.inbound: list[tuple[str, str]] = []
        self._ids = random.Random(self.faults.seed + 1)
        self._active = 0  # admitted requests, for max_concurrent

    # --- helpers for tests -------------------------------------------------------------------

    def sdk_client(self, http_client: HttpClient | None = None) -> Client:
        """The real SDK pointed at this stand-in (the SDK has no base-URL argument)."""
        client = Client(self.account_sid, self.auth_token, http_client=http_client)
        client.api.base_url = self.base_url
        return client

    def sent_to(self, number: str) -> list[Message]:
        return [m for m in self.messages if m.to == number]

    def receive(self, from_number: str, body: str) -> str | None:
        """An inbound SMS: a whole-message opt-out or opt-in keyword changes `stopped`."""
        with self.lock:
            self.inbound.append((from_number, body))
            word = body.strip().upper()
            if word in OPT_OUT:
                self.stopped.add(from_number)
                return "opt_out"
            if word in OPT_IN:
                self.stopped.discard(from_number)
                return "opt_in"
            return None

    def report_status(self, sid: str, status: str, error_code: int | None = None) -> int:
        """POST a signed status callback (X-Twilio-Signature) to the message's StatusCallback."""
        message = next(m for m in self.messages if m.sid == sid)
        message.status = status
        params = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "From": message.from_ or "",
                  "MessageSid": sid, "MessageStatus": status, "SmsSid": sid, "SmsStatus": status, "To": message.to}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(message.status_callback, params)
        request = urllib.request.Request(message.status_callback, data=urlencode(params).encode(),
                                         headers={"X-Twilio-Signature": signature})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except HTTPError as err:
            return err.code

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            reply = _error(401, 20003, "Authenticate")
            return Reply(reply.status, reply.body, {**reply.headers, "WWW-Authenticate": 'Basic realm="Twilio API"'})
        if params["account_sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if endpoint == "list_messages":
            with self.lock:
                return self._list_messages(request)
        with self.lock:
            if self.max_concurrent is not None and self._active >= self.max_concurrent:
                return _error(429, 20429, "Too Many Requests")
            self._active += 1
        try:
            self.pause(self.processing_seconds)
            with self.lock:
                return self._create_message(request)
        finally:
            with self.lock:
                self._active -= 1

    def fault_reply(self, endpoint: str, status: int) -> Reply:
        code, message = {429: (20429, "Too Many Requests"), 500: (20500, "Internal Server Error"),
                         503: (20503, "Service Unavailable")}[status]
        return _error(status, code, message)

    def _create_message(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        to, sender, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
        body = form.get("Body", "")
        problem = self._problem(to, sender, service, body, "MediaUrl" in form)
        if problem:
            return problem
        message = Message(f"SM{self._ids.getrandbits(128):032x}", to, sender, service, body,
                          "accepted" if service else "queued", form.get("StatusCallback"))
        self.messages.append(message)
        self.writes["create_message"] += 1
        return Reply.json(201, self._message_json(message))

    def _list_messages(self, request: Request) -> Reply:
        """Messages filtered by To and From, newest first, in pages of PageSize (default 50)."""
        to, sender = request.arg("To"), request.arg("From")
        size = int(request.arg("PageSize") or 50)
        page = int(request.arg("Page") or 0)
        found = [m for m in reversed(self.messages)
                 if (to is None or m.to == to) and (sender is None or m.from_ == sender)]
        chunk = found[page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        following = f"{base}?PageSize={size}&Page={page + 1}" if (page + 1) * size < len(found) else None
        if following and to:
            following += f"&To={quote(to)}"
        if following and sender:
            following += f"&From={quote(sender)}"
        return Reply.json(200, {"messages": [self._message_json(m) for m in chunk], "page": page, "page_size": size,
                                "start": page * size, "end": page * size + max(len(chunk) - 1, 0),
                                "uri": request.path, "first_page_uri": f"{base}?PageSize={size}&Page=0",
                                "previous_page_uri": None, "next_page_uri": following})

    def _problem(self, to: str | None, sender: str | None, service: str | None, body: str,
                 media: bool) -> Reply | None:
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to) or to in self.invalid:
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if service and not MG_SID.fullmatch(service):
            return _error(400, 21705, "The Messaging Service Sid is invalid.")
        if service and service not in self.messaging_services:
            return _error(400, 21701, "The Messaging Service does not exist.")
        if not service and not sender:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not service and sender not in self.senders:
            return _error(400, 21606, "The 'From' phone number provided is not a valid message-capable Twilio "
                                      "phone number for this destination/account.")
        if not body and not media:
            return _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.stopped:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        if to in self.landlines:
            return _error(400, 21614, f"'To' number {to} is not a valid mobile number")
        return None

    def _message_json(self, message: Message) -> dict:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json"
        return {"account_sid": self.account_sid, "api_version": "2010-04-01", "body": message.body,
                "date_created": message.date_created, "date_sent": None, "date_updated": message.date_created,
                "direction": "outbound-api", "error_code": None, "error_message": None, "from": message.from_,
                "messaging_service_sid": message.messaging_service_sid, "num_media": "0",
                "num_segments": str(1 if len(message.body) <= 160 else math.ceil(len(message.body) / 153)),
                "price": None, "price_unit": "USD", "sid": message.sid, "status": message.status,
                "subresource_uris": {"media": uri.replace(".json", "/Media.json")}, "to": message.to, "uri": uri}
