"""Slack Incoming Webhook stand-in: records what is posted to `/services/<token>`, answers `ok`.

    with SlackStandin() as slack:
        AIRFLOW_CONN_MERCATOR_SLACK = slack.connection_json()

Set `down` to answer 500 (`internal_error`) and record nothing, as Slack does when it fails.
"""

from __future__ import annotations

import json

from tests.standins.standin import Reply, Request, StandinServer

TOKEN = "T000/B000/standin"


class SlackStandin(StandinServer):
    ROUTES = (("POST", r"/services/(?P<token>.+)", "webhook"),)

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.posts: list[dict] = []

    def connection_json(self) -> str:
        """An Airflow connection (AIRFLOW_CONN_<ID> JSON) for SlackWebhookHook pointed at the stand-in."""
        return json.dumps({"conn_type": "slackwebhook", "host": f"{self.base_url}/services", "password": TOKEN})

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        if self.down:
            return Reply(500, b"internal_error")
        if params["token"] != TOKEN:
            return Reply(403, b"invalid_token")
        with self.lock:
            self.posts.append(request.json())
        return Reply(200, b"ok", {"Content-Type": "text/plain"})

    def fault_reply(self, endpoint: str, status: int) -> Reply:
        return Reply(status, b"rate_limited" if status == 429 else b"internal_error")
