"""Standard Webhooks receiver stand-in for tests: verified signatures, deduplication, 410 and 429.

    with WebhookStandin(faults=Faults(reset_after_write=0.2, seed=3)) as hook:
        connection = Connection("hook", host=hook.url, password=hook.secret)

`POST /hooks/{name}` is verified with PyPI's `standardwebhooks` reference verifier (signature and a
timestamp at most 5 minutes off, else 401). A verified request is recorded under its `webhook-id`
(`deliveries`: the first payload per id; `attempts`: every verified request per id) and answered
204. Tests set `gone` to answer 410, or queue replies with `answer_next` (e.g. a 429 with
`Retry-After`), which are answered before verification and record nothing.
"""

from __future__ import annotations

import base64
from collections import Counter, deque

from standardwebhooks import Webhook, WebhookVerificationError

from tests.standins.standin import Faults, Reply, Request, StandinServer

SECRET = "whsec_" + base64.b64encode(b"mercator-webhook-standin-key-32b").decode()


class WebhookStandin(StandinServer):
    """A webhook endpoint that verifies, dedupes and records what it receives."""

    ROUTES = (("POST", r"/hooks/(?P<name>[^/]+)", "deliver"),)

    def __init__(self, secret: str = SECRET, faults: Faults | None = None) -> None:
        super().__init__(faults)
        self.secret = secret
        self.gone = False
        self.deliveries: dict[str, dict] = {}
        self.attempts: Counter[str] = Counter()
        self.ids: list[str] = []  # webhook-id of every request that reached the handler, in order
        self.unverified: list[str] = []  # the verifier's reasons for the requests answered 401
        self._next: deque[Reply] = deque()

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/mercator"

    def answer_next(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self.lock:
            self._next.extend(replies)

    def members(self) -> list[dict]:
        """Every member of every distinct delivery, in order of arrival."""
        return [member for payload in self.deliveries.values() for member in payload["members"]]

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        with self.lock:
            self.ids.append(request.headers.get("webhook-id", ""))
            if self.gone:
                return Reply(410)
            if self._next:
                return self._next.popleft()
        try:
            payload = Webhook(self.secret).verify(request.body, dict(request.headers.items()))
        except WebhookVerificationError as error:
            with self.lock:
                self.unverified.append(str(error))
            return Reply.json(401, {"error": "invalid signature"})
        webhook_id = request.headers["webhook-id"]
        with self.lock:
            self.attempts[webhook_id] += 1
            if webhook_id not in self.deliveries:
                self.deliveries[webhook_id] = payload
                self.writes["deliver"] += 1
        return Reply(204)

    def fault_reply(self, endpoint: str, status: int) -> Reply:
        return Reply(status, headers={"Retry-After": "1"} if status == 429 else {})
