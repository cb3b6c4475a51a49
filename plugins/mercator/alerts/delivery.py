"""Where alert messages go: Slack (Airflow's SlackWebhookHook), email (Airflow's SmtpHook), or files.

The Slack and SMTP targets use the Airflow connections named by env MERCATOR_ALERTS_SLACK_CONN
(default `mercator_slack`: conn type `slackwebhook`, the webhook token or URL as its password) and
MERCATOR_ALERTS_SMTP_CONN (default `mercator_smtp`: host, port, login and password, extra `from_email`
and `to`, a comma-separated list of recipients). With neither configured, every message is written
to `<reports>/alerts/<message_id>.json`. A target that fails raises; the caller records the attempt.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mercator.activation.destination import ConfigError, get_connection

SLACK_CONN_ENV, SLACK_CONN_DEFAULT = "MERCATOR_ALERTS_SLACK_CONN", "mercator_slack"
SMTP_CONN_ENV, SMTP_CONN_DEFAULT = "MERCATOR_ALERTS_SMTP_CONN", "mercator_smtp"


@dataclass(frozen=True)
class SlackTarget:
    conn_id: str
    name: str = "slack"

    def send(self, message: dict) -> None:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        SlackWebhookHook(slack_webhook_conn_id=self.conn_id, timeout=10).send(text=message["text"])


@dataclass(frozen=True)
class EmailTarget:
    conn_id: str
    recipients: tuple[str, ...]
    name: str = "email"

    def send(self, message: dict) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        subject = "Mercator: " + message["text"].split(". ")[0]
        body = f"<p>{html.escape(message['text'])}</p>"
        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            hook.send_email_smtp(to=list(self.recipients), subject=subject, html_content=body)


@dataclass(frozen=True)
class FileTarget:
    folder: Path
    name: str = "file"

    def send(self, message: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {k: (str(v) if k == "created_on" else v) for k, v in message.items()}
        path = self.folder / f"{message['message_id'].replace(':', '.')}.json"
        path.write_text(json.dumps(record, indent=2, sort_keys=True))


def _configured(env: str, default: str):
    try:
        return get_connection(os.environ.get(env) or default)
    except ConfigError:
        return None


def targets(reports_dir: Path) -> list:
    """The configured targets: Slack and/or email; the files under reports/alerts/ without either."""
    found: list = []
    if slack := _configured(SLACK_CONN_ENV, SLACK_CONN_DEFAULT):
        found.append(SlackTarget(slack.conn_id))
    if smtp := _configured(SMTP_CONN_ENV, SMTP_CONN_DEFAULT):
        to = smtp.extra.get("to") or ""
        recipients = tuple(a.strip() for a in (to.split(",") if isinstance(to, str) else to) if a.strip())
        if not recipients:
            raise ConfigError(f"connection {smtp.conn_id!r} needs the recipients in its extra `to`")
        found.append(EmailTarget(smtp.conn_id, recipients))
    return found or [FileTarget(Path(reports_dir) / "alerts")]
