"""Alert episodes end to end on a hand-made marts.kpi_daily: one message per episode, a recovery, no
resends on a rerun, retries after a target was down, data alerts in place of KPI alerts after a failed
or stale gate; Slack and SMTP through Airflow's hooks against loopback stand-ins, files without them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import duckdb
import pytest
from mercator.alerts.delivery import FileTarget, targets
from mercator.alerts.run import alert_kpis
from mercator.reporting.health import FAILED, NOT_RUN, PASSED, Gate, RunHealth

from tests.mercator.alerts.kpi_fixtures import HISTORY, START, add_day, create_kpi_daily
from tests.standins.slack_server import SlackStandin
from tests.standins.smtp_server import SmtpStandin

OK = RunHealth("run", {"raw": Gate("raw", PASSED), "marts": Gate("marts", PASSED)})
PII = re.compile(r"@|\+\d{7,}|\b\d{10,}\b|\(\d{3}\) ?\d{3}-\d{4}")  # an email, a phone number


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        create_kpi_daily(con, HISTORY)
        yield con


def episodes(con) -> list[dict]:
    cursor = con.execute("select * from alerts.episodes order by opened_on, kpi, channel")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_a_drop_opens_one_episode_a_rerun_sends_nothing_and_recovery_resolves_it(con, tmp_path, monkeypatch):
    with SlackStandin() as slack:
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_SLACK", slack.connection_json())
        slack_targets = targets(tmp_path)
        assert [t.name for t in slack_targets] == ["slack"]
        assert alert_kpis(con, OK, slack_targets)["opened"] == 0 and slack.posts == []
        drop_day = add_day(con, HISTORY, shock=0.4)
        summary = alert_kpis(con, OK, slack_targets)
        assert summary["opened"] == 2 and summary["delivered"] == {"slack": {"sent": 2, "failed": 0}}
        rows = episodes(con)
        assert {(r["kpi"], r["channel"], r["status"]) for r in rows} == {("revenue", None, "notified"),
                                                                        ("revenue", "shop", "notified")}
        total = next(r for r in rows if r["channel"] is None)
        assert total["opened_on"] == drop_day and total["observed"] < total["expected_low"] < total["expected_high"]
        assert total["deviation"] == pytest.approx(-0.6, abs=0.05)
        text = slack.posts[0]["text"]
        assert "Revenue" in text and "below its expected range" in text and "dashboard.html#kpi-revenue" in text
        assert f"{total['observed']:,.2f}" in text

        assert alert_kpis(con, OK, slack_targets)["delivered"] == {"slack": {"sent": 0, "failed": 0}}
        assert len(slack.posts) == 2 and len(episodes(con)) == 2

        add_day(con, HISTORY + 1)
        summary = alert_kpis(con, OK, slack_targets)
        assert summary["resolved"] == 2 and len(slack.posts) == 4
        assert all(r["status"] == "resolved" and r["resolved_on"] == drop_day + timedelta(days=1)
                   for r in episodes(con))
        assert slack.posts[2]["text"].startswith("Resolved: Revenue")
        assert not any(PII.search(p["text"]) for p in slack.posts)


def test_a_target_that_is_down_is_retried_by_the_next_run_and_the_run_goes_on(con, tmp_path, monkeypatch):
    with SlackStandin() as slack, SmtpStandin() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_SLACK", slack.connection_json())
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_SMTP", smtp.connection_json(to="marketing@example.test"))
        both = targets(tmp_path)
        add_day(con, HISTORY, shock=2.5)
        slack.down = True
        summary = alert_kpis(con, OK, both)
        assert summary["delivered"] == {"slack": {"sent": 0, "failed": 2}, "email": {"sent": 2, "failed": 0}}
        assert {r["status"] for r in episodes(con)} == {"open"}
        errors = con.execute("select last_error from alerts.deliveries where target = 'slack'").fetchall()
        assert all("500" in e for (e,) in errors)

        slack.down = False
        summary = alert_kpis(con, OK, both)  # the same day again: no new episode, the Slack retry only
        assert summary["delivered"] == {"slack": {"sent": 2, "failed": 0}, "email": {"sent": 0, "failed": 0}}
        assert len(slack.posts) == 2 and len(smtp.messages) == 2
        assert {r["status"] for r in episodes(con)} == {"notified"}
        mail = smtp.messages[0]
        assert mail["To"] == "marketing@example.test" and mail["Subject"].startswith("Mercator: Revenue")
        assert "above its expected range" in mail.get_payload()[0].get_payload(decode=True).decode()


def test_without_connections_each_message_is_a_file(con, tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_MERCATOR_SLACK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_MERCATOR_SMTP", raising=False)
    found = targets(tmp_path / "reports")
    assert found == [FileTarget(tmp_path / "reports" / "alerts")]
    add_day(con, HISTORY, shock=0.4)
    alert_kpis(con, OK, found)
    files = sorted((tmp_path / "reports" / "alerts").glob("*.json"))
    assert len(files) == 2
    message = json.loads(files[0].read_text())
    assert message["kind"] == "alert" and message["link"] == "dashboard.html#kpi-revenue"
    assert {r["status"] for r in episodes(con)} == {"notified"}


def test_a_failed_gate_holds_its_kpis_back_and_sends_one_data_alert(con, tmp_path):
    files = [FileTarget(tmp_path / "alerts")]
    add_day(con, HISTORY, shock=0.4)
    con.execute("update marts.kpi_daily set value = value * 3 where kpi = 'unsubscribe_rate' and kpi_date = ?",
                [START + timedelta(days=HISTORY)])
    failure = {"suite": "marts_fct_orders", "table": "marts.fct_orders", "critical_failures": []}
    failed = RunHealth("run", {"raw": Gate("raw", PASSED), "marts": Gate("marts", FAILED, failures=[failure])})
    summary = alert_kpis(con, failed, files)
    assert summary["held_back"] == ["aov", "conversion", "new_customers", "orders", "revenue"]
    rows = episodes(con)
    assert [(r["kind"], r["kpi"], r["channel"]) for r in rows] == [("data", "data_quality", None),
                                                                    ("kpi", "unsubscribe_rate", "email")]
    assert "mart gate failed on marts.fct_orders" in rows[0]["message"]
    assert "#run-status" in rows[0]["link"]
    alert_kpis(con, failed, files)  # the same failure again: nothing new
    assert len(list((tmp_path / "alerts").glob("*.json"))) == 2

    stale = RunHealth("run", {"raw": Gate("raw", PASSED), "marts": Gate("marts", NOT_RUN)})
    add_day(con, HISTORY + 1, shock=0.4)
    assert alert_kpis(con, stale, files)["held_back"] == sorted(
        ["aov", "conversion", "new_customers", "orders", "revenue", "unsubscribe_rate"])
    assert len(episodes(con)) == 2  # the data episode stays open, still one message

    add_day(con, HISTORY + 2)
    alert_kpis(con, OK, files)
    statuses = {(r["kpi"]): r["status"] for r in episodes(con)}
    assert statuses == {"data_quality": "resolved", "unsubscribe_rate": "resolved"}
    recovery = json.loads((tmp_path / "alerts" / f"{episodes(con)[0]['episode_id']}.recovery.json").read_text())
    assert "data checks pass again" in recovery["text"]


class Recorder:
    name = "new"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: dict) -> None:
        self.sent.append(message["message_id"])


def test_a_target_added_later_gets_the_last_week_not_the_history(con, tmp_path):
    files = [FileTarget(tmp_path / "alerts")]
    add_day(con, HISTORY, shock=0.4)
    alert_kpis(con, OK, files)
    for t in range(HISTORY + 1, HISTORY + 9):  # the shock goes on: the episodes stay open, nothing new
        add_day(con, t, shock=0.4)
        alert_kpis(con, OK, files)
    recorder = Recorder()
    alert_kpis(con, OK, [*files, recorder])
    assert recorder.sent == [] and {r["status"] for r in episodes(con)} == {"notified"}
    add_day(con, HISTORY + 9)
    alert_kpis(con, OK, [*files, recorder])
    assert len(recorder.sent) == 2 and all(m.endswith(":recovery") for m in recorder.sent)
