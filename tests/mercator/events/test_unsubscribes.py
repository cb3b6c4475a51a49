"""Global unsubscribes pulled with the real SDK from the SendGrid stand-in, incrementally and idempotently."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import duckdb
from mercator import pipeline
from mercator.config import Settings
from mercator.events import pull_unsubscribes
from mercator.events.__main__ import main
from mercator.events.unsubscribes import PAGE_SIZE

from tests.mercator.events.webhooks import landing_rows
from tests.standins.sendgrid_server import API_KEY, SendGridStandin

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


class RecordingStandin(SendGridStandin):
    """Keeps the query of every unsubscribes request."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[dict[str, str]] = []

    def handle(self, endpoint, request, params):
        if endpoint == "unsubscribes":
            self.queries.append({k: v[0] for k, v in request.query.items()})
        return super().handle(endpoint, request, params)


def test_two_pulls_the_second_from_the_first_ones_end_and_repeats_stored_once(landing):
    with RecordingStandin() as sendgrid:
        for i in range(PAGE_SIZE + 100):  # two pages
            sendgrid.unsubscribe(f"reader{i}@example.com", created=T0 + i % 50)
        first = pull_unsubscribes(sendgrid.sdk_client(), landing, now=T0 + 100)
        sendgrid.unsubscribe("same.second@example.com", created=T0 + 100)  # on the inclusive bound
        sendgrid.unsubscribe("later@example.com", created=T0 + 150)
        second = pull_unsubscribes(sendgrid.sdk_client(), landing, now=T0 + 200)
        third = pull_unsubscribes(sendgrid.sdk_client(), landing, now=T0 + 200)  # nothing new
        queries = sendgrid.queries

    assert (first.start_time, first.end_time, first.fetched, first.stored) == (0, T0 + 100, 600, 600)
    assert [(q["start_time"], q["offset"]) for q in queries] == [
        ("0", "0"),
        ("0", str(PAGE_SIZE)),
        (str(T0 + 100), "0"),
        (str(T0 + 200), "0"),
    ]
    assert queries[2] == {"start_time": str(T0 + 100), "end_time": str(T0 + 200), "limit": "500", "offset": "0"}
    assert (second.fetched, second.stored) == (2, 2)
    assert (third.start_time, third.stored) == (T0 + 200, 0)

    rows = landing_rows(landing, "email/events")
    assert len(rows) == 602 == len({r["sg_event_id"] for r in rows})
    later = next(r for r in rows if r["email"] == "later@example.com")
    assert later == {
        "email": "later@example.com",
        "timestamp": T0 + 150,
        "event": "unsubscribe",
        "sg_event_id": later["sg_event_id"],
    }
    assert later["sg_event_id"].startswith("unsubscribe-")


def test_the_cli_pulls_with_the_key_from_the_environment(landing, monkeypatch):
    with SendGridStandin() as sendgrid:
        sendgrid.unsubscribe("cli@example.com", created=T0)
        monkeypatch.delenv("MERCATOR_SENDGRID_API_KEY", raising=False)
        assert main(["pull-unsubscribes", "--landing", str(landing), "--sendgrid-host", sendgrid.base_url]) == 2
        monkeypatch.setenv("MERCATOR_SENDGRID_API_KEY", API_KEY)
        for _ in range(2):
            assert main(["pull-unsubscribes", "--landing", str(landing), "--sendgrid-host", sendgrid.base_url]) == 0
    assert [r["email"] for r in landing_rows(landing, "email/events")] == ["cli@example.com"]


def test_the_pipeline_step_pulls_through_the_airflow_connection_and_the_raw_load_sees_each_once(
    tmp_path, monkeypatch
):
    settings = replace(Settings.from_env(), landing_dir=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb")
    monkeypatch.setenv("MERCATOR_SENDGRID_CONN", "sendgrid_pull_test")
    with SendGridStandin() as sendgrid:
        monkeypatch.setenv("AIRFLOW_CONN_SENDGRID_PULL_TEST", json.dumps(
            {"conn_type": "sendgrid", "password": API_KEY, "host": sendgrid.base_url}))
        sendgrid.unsubscribe("first@example.com", created=int(time.time()) - 60)
        first = pipeline.pull_unsubscribes(settings)
        sendgrid.unsubscribe("second@example.com")  # now: on or after the first pull's end
        second = pipeline.pull_unsubscribes(settings)

    assert (first["status"], first["stored"], second["stored"]) == ("pulled", 1, 1)
    assert second["start_time"] == first["end_time"]
    load = pipeline.extract_entity(settings, "email/events", "run-1")
    assert (load["rows_loaded"], load["rows_quarantined"]) == (2, 0)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        loaded = con.execute("select email, event from raw.email__events order by email").fetchall()
    assert loaded == [("first@example.com", "unsubscribe"), ("second@example.com", "unsubscribe")]


def test_the_pipeline_step_without_a_connection_skips(tmp_path, monkeypatch):
    settings = replace(Settings.from_env(), landing_dir=tmp_path / "landing")
    monkeypatch.delenv("MERCATOR_SENDGRID_CONN", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SENDGRID_DEFAULT", raising=False)

    assert pipeline.pull_unsubscribes(settings) == {"status": "skipped", "connection": "sendgrid_default"}
    assert not settings.landing_dir.exists()
