"""SMTP stand-in on 127.0.0.1 (aiosmtpd): records every message it accepts.

    with SmtpStandin() as smtp:
        AIRFLOW_CONN_MERCATOR_SMTP = smtp.connection_json(to="marketing@example.test")
"""

from __future__ import annotations

import json
import socket
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpStandin:
    def __init__(self) -> None:
        self._recorder = _Recorder()
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=_free_port())

    @property
    def messages(self) -> list[Message]:
        return self._recorder.messages

    def connection_json(self, to: str) -> str:
        """An Airflow connection for SmtpHook: plain SMTP (no SSL, no STARTTLS), no login."""
        extra = {"disable_ssl": True, "disable_tls": True, "from_email": "alerts@mercator.test", "to": to,
                 "retry_limit": 0, "timeout": 5}
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self._controller.port, "extra": extra})

    def __enter__(self) -> SmtpStandin:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
