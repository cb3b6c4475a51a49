"""The SendGrid destination against the SendGrid stand-in, over HTTP with the real SDK."""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from mercator.activation import sendgrid_client
from mercator.activation.destination import DELIVERED, FAILED, REJECTED, ConfigError, Connection, Member
from mercator.activation.sendgrid import (
    JOBS_IN_FLIGHT,
    MAX_BODY_BYTES,
    MAX_CONTACTS,
    SendGridDestination,
    SendGridOptions,
)
from mercator.activation.sendgrid_client import SendGridError

from tests.standins.sendgrid_server import SendGridStandin
from tests.standins.standin import Faults

AUDIENCE = "audience_at_risk_email"


pytestmark = pytest.mark.usefixtures("sendgrid_waits")  # no backoff or pacing wait is slept


def connect(server: SendGridStandin, key: str | None = None, **options) -> SendGridDestination:
    """A destination whose connection (host, port, schema, password) points at the stand-in."""
    url = urlsplit(server.base_url)
    connection = Connection("mercator_sendgrid", "sendgrid", host=url.hostname, port=url.port, schema=url.scheme,
                            password=key or server.api_key)
    return SendGridDestination.from_options({"poll_seconds": 0.01, **options}, connection)


def people(n: int, start: int = 0, **fields) -> list[Member]:
    return [Member(f"k{i}", {"email": f" P{i}@Example.com", "first_name": f"First{i}", **fields}, f"h{i}")
            for i in range(start, start + n)]


def assert_delivered(server: SendGridStandin, members: list[Member], outcomes) -> None:
    """Every member delivered and stored at SendGrid; no contact id yet (looked up only for removals)."""
    assert [(o.customer_key, o.status, o.remote_id) for o in outcomes] == [(m.customer_key, DELIVERED, None)
                                                                          for m in members]
    assert all(server.contact(m.fields["email"].strip()) for m in members)


def contact_id(server: SendGridStandin, member: Member) -> str:
    return server.contact(member.fields["email"].strip()).id


def test_prepare_creates_the_list_and_fields_once_and_pages_through_lists():
    with SendGridStandin() as server:
        server.lists.update({str(uuid.uuid4()): f"other {n}" for n in range(1_500)})  # ours will be on page 2
        fields = {"segment": "Text", "clv_value": "Number"}
        first = connect(server, custom_fields=fields)
        first.prepare(AUDIENCE)
        first.prepare(AUDIENCE)
        connect(server, custom_fields=fields).prepare(AUDIENCE)
        assert server.writes == {"create_list": 1, "create_field": 2}
        assert (server.requests["create_list"], server.requests["create_field"]) == (1, 2)  # no create attempted
        assert sorted((f["name"], f["field_type"]) for f in server.fields.values()) == [
            ("clv_value", "Number"), ("segment", "Text")]
        assert list(server.lists.values()).count(AUDIENCE) == 1

        connect(server, list_name="VIP customers", custom_fields=["Segment"]).prepare(AUDIENCE)  # names: any case
        assert server.writes == {"create_list": 2, "create_field": 2}
        with pytest.raises(ConfigError, match="exists as Text, configured as Number"):
            connect(server, custom_fields={"segment": "Number"}).prepare(AUDIENCE)


@pytest.mark.parametrize("options", [{"custom_fields": ["first_name"]}, {"custom_fields": ["1st"]},
                                     {"custom_fields": {"clv": "Date"}}, {"list_name": ""}, {"list_name": "x" * 101},
                                     {"poll_seconds": 0}, {"max_attempts": 0}, {"segment": "x"}])
def test_wrong_options_are_a_config_error(options):
    connection = Connection("mercator_sendgrid", password="SG.k")
    with pytest.raises(ConfigError, match="sendgrid"):
        SendGridDestination.from_options(options, connection)


def test_fields_the_audience_lacks_are_a_config_error():
    destination = SendGridDestination(SendGridOptions(custom_fields=["segment"]), Connection("c", password="SG.k"))
    destination.validate_fields(["customer_key", "email", "segment"])
    with pytest.raises(ConfigError, match=r"\['email', 'segment'\]"):
        destination.validate_fields(["customer_key", "first_name"])


def test_a_connection_without_the_key_is_a_config_error():
    with pytest.raises(ConfigError, match="API key"):
        SendGridDestination(SendGridOptions(), Connection("mercator_sendgrid", host="127.0.0.1"))
    assert SendGridDestination.max_batch == MAX_CONTACTS * JOBS_IN_FLIGHT
    assert not SendGridDestination.delivers_messages


def test_70000_members_go_out_in_three_requests_polled_together_without_contact_searches():
    with SendGridStandin() as server:
        destination = connect(server, custom_fields=["segment"])
        members = [Member(f"k{i}", {"email": f"c{i}@example.com", "segment": "at_risk"}, "") for i in range(70_000)]
        outcomes = destination.upsert(AUDIENCE, members, "run-1")
        assert server.requests["upsert_contacts"] == math.ceil(70_000 / MAX_CONTACTS) == 3
        assert server.requests["search_emails"] == 0
        calls = [r.endpoint for r in server.log if r.endpoint in ("upsert_contacts", "import_status")]
        assert calls == ["upsert_contacts"] * 3 + ["import_status"] * 6  # submitted, then polled together
        assert_delivered(server, members, outcomes)
        (list_id,) = server.lists
        assert len(server.list_members(list_id)) == 70_000
        assert server.contact("c69999@example.com").custom_fields == {"e1_T": "at_risk"}


def test_contact_ids_are_searched_only_for_removal_100_emails_per_search_each_once():
    with SendGridStandin(rate_limits={"search_emails": (10_000, 60.0)}) as server:
        destination = connect(server)
        members = people(1_000)
        destination.upsert(AUDIENCE, members, "run-1")
        leaving = [Member(m.customer_key, {"emails": [m.fields["email"], m.fields["email"].upper()]}, "")
                   for m in members[:250]]
        known = [Member(m.customer_key, {}, "", contact_id(server, m)) for m in members[250:300]]
        outcomes = destination.remove(AUDIENCE, leaving + known, "run-2")
        assert server.requests["search_emails"] == 3  # 250 distinct emails, 100 per search; known ids not searched
        assert [(o.status, o.remote_id) for o in outcomes] == [(DELIVERED, contact_id(server, m))
                                                               for m in members[:300]]
        (list_id,) = server.lists
        assert server.list_members(list_id) == {f"p{i}@example.com" for i in range(300, 1_000)}


def test_a_body_over_6_000_000_bytes_is_split_and_an_oversized_contact_rejected():
    with SendGridStandin() as server:
        destination = connect(server, custom_fields=["note"])
        members = people(6_000, note="n" * 1_100)  # ~7 MB in all, far fewer than 30,000 contacts
        huge = Member("huge", {"email": "huge@example.com", "note": "x" * MAX_BODY_BYTES}, "")
        outcomes = destination.upsert(AUDIENCE, [*members, huge], "run-1")
        assert [r.status for r in server.log if r.endpoint == "upsert_contacts"] == [202, 202]
        assert_delivered(server, members, outcomes[:-1])
        assert (outcomes[-1].status, outcomes[-1].reason) == (REJECTED, "contact over 6,000,000 bytes")


def test_invalid_rows_are_rejected_with_a_reason_and_the_others_delivered():
    with SendGridStandin() as server:
        destination = connect(server, custom_fields={"clv_value": "Number"})
        good = people(3, clv_value=12.5)
        bad = [Member("no_dot", {"email": "ann@example"}, ""), Member("garbage", {"email": "not an email"}, ""),
               Member("blank", {"email": "  "}, ""),
               Member("long", {"email": "l@example.com", "first_name": "x" * 51}, ""),
               Member("nan", {"email": "n@example.com", "clv_value": "abc"}, "")]
        outcomes = destination.upsert(AUDIENCE, [*good, *bad], "run-1")
        assert_delivered(server, good, outcomes[:3])
        assert [(o.customer_key, o.status, o.reason) for o in outcomes[3:]] == [
            ("no_dot", REJECTED, "invalid email"), ("garbage", REJECTED, "invalid email"),
            ("blank", REJECTED, "no email"), ("long", REJECTED, "first_name longer than 50 characters"),
            ("nan", REJECTED, "custom field clv_value is not a number")]
        assert server.contact("p0@example.com").fields == {"first_name": "First0"}
        assert server.contact("p0@example.com").custom_fields == {"e1_N": 12.5}
        assert len(server.contacts) == 3 and server.requests["import_errors"] == 1


def test_failed_and_unfinished_jobs_leave_their_rows_failed():
    with SendGridStandin(failed_jobs=1.0) as server:
        outcomes = connect(server).upsert(AUDIENCE, people(3), "run-1")
        assert {(o.status, o.remote_id) for o in outcomes} == {(FAILED, None)}
        assert "failed" in outcomes[0].reason
    with SendGridStandin(pending_polls=10**6) as server:
        outcomes = connect(server, job_timeout_seconds=0.05).upsert(AUDIENCE, people(3), "run-1")
        assert {o.status for o in outcomes} == {FAILED} and "still pending after 0.05 s" in outcomes[0].reason


def test_faults_at_20_percent_deliver_every_member_once():
    faults = Faults(rate_limited=0.05, server_error=0.05, timeout=0.05, reset_after_write=0.05,
                    timeout_seconds=0.8, seed=4)
    with SendGridStandin(faults=faults) as server:
        destination = connect(server, custom_fields=["segment"], timeout_seconds=0.4)
        members = people(600, segment="at_risk")
        outcomes = [o for n in range(0, 600, 20) for o in destination.upsert(AUDIENCE, members[n:n + 20], "run-1")]
        removed = destination.remove(AUDIENCE, members[:100], "run-2")  # ids searched by email
        erased = destination.erase(members[500:])
        server.wait_idle()
        assert_delivered(server, members[:500], outcomes[:500])
        assert {o.status for o in removed + erased} == {DELIVERED}
        assert len(server.contacts) == 500 and len({c.id for c in server.contacts.values()}) == 500
        (list_id,) = server.lists
        assert server.list_members(list_id) == {f"p{i}@example.com" for i in range(100, 500)}
        assert len(server.fields) == 1
        assert {("create_list", "timeout"), ("create_list", "reset_after_write")} <= {(r.endpoint, r.fault)
                                                                                     for r in server.log}
        assert set(server.faults_injected) == {"rate_limited", "server_error", "timeout", "reset_after_write"}
        assert server.writes["upsert_contacts"] > 30  # some PUTs were applied twice: harmless, by email


def test_retries_are_bounded_then_the_batch_fails_with_the_reason(sendgrid_waits):
    with SendGridStandin() as server:
        destination = connect(server, max_attempts=4)
        destination.prepare(AUDIENCE)
        server.faults = Faults(server_error=1.0)
        outcomes = destination.upsert(AUDIENCE, people(3), "run-1")
        assert {o.status for o in outcomes} == {FAILED}
        assert outcomes[0].reason.startswith("PUT /v3/marketing/contacts: 50")
        assert outcomes[0].reason.endswith("(after 4 attempts)")
        assert server.requests["upsert_contacts"] == 4 and len(sendgrid_waits) == 3
        assert all(0 <= w <= sendgrid_client.BACKOFF_CAP for w in sendgrid_waits)

        sendgrid_waits.clear()
        server.faults = Faults(rate_limited=1.0)
        outcomes = destination.upsert(AUDIENCE, people(3), "run-2")
        assert outcomes[0].reason == "PUT /v3/marketing/contacts: 429 too many requests (after 4 attempts)"
        # X-RateLimit-Reset: a 60 s window, whole seconds
        assert len(sendgrid_waits) == 3 and all(0 < w <= 61.5 for w in sendgrid_waits)


def test_pacing_waits_for_the_rate_limit_reset_instead_of_failing(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(sendgrid_client, "sleep", lambda seconds: (slept.append(seconds), time.sleep(seconds)))
    with SendGridStandin(rate_limits={"search_emails": (2, 0.5)}) as server:
        members = people(300)
        destination = connect(server)
        destination.upsert(AUDIENCE, members, "run-1")
        outcomes = destination.remove(AUDIENCE, members, "run-2")
        assert {o.status for o in outcomes} == {DELIVERED} and all(o.remote_id for o in outcomes)
        searches = [r.status for r in server.log if r.endpoint == "search_emails"]
        assert searches == [200, 200, 200]  # never a 429
        assert any(w > 0.05 for w in slept)  # the wait for X-RateLimit-Reset after the second search


def test_remove_takes_members_off_the_list_and_keeps_the_contacts():
    with SendGridStandin() as server:
        destination = connect(server)
        members = people(10)
        destination.upsert(AUDIENCE, members, "run-1")
        ids = {m.customer_key: contact_id(server, m) for m in members}
        leaving = [Member(f"k{i}", {}, "", ids[f"k{i}"]) for i in range(4)] + [
            Member("k4", {"email": "P4@example.com"}, ""),  # no id kept: found by email
            Member("gone", {}, "", str(uuid.uuid4())),  # deleted at SendGrid meanwhile
            Member("never", {"email": "nobody@example.com"}, ""), Member("blank", {}, "")]
        outcomes = destination.remove(AUDIENCE, leaving, "run-2")
        assert [(o.status, o.remote_id) for o in outcomes[:5]] == [(DELIVERED, ids[f"k{i}"]) for i in range(5)]
        assert [(o.status, o.reason) for o in outcomes[5:]] == [
            (DELIVERED, "no such contact at SendGrid"), (DELIVERED, "no such contact at SendGrid"),
            (REJECTED, "neither a contact id nor an email")]
        (list_id,) = server.lists
        assert server.list_members(list_id) == {f"p{i}@example.com" for i in range(5, 10)}
        assert len(server.contacts) == 10


def test_erase_deletes_the_contacts():
    with SendGridStandin() as server:
        destination = connect(server)
        members = people(5)
        destination.upsert(AUDIENCE, members, "run-1")
        doomed = [Member("k0", {}, "", contact_id(server, members[0])), Member("k1", members[1].fields, ""),
                  Member("k2", members[2].fields, "", str(uuid.uuid4())),  # a stale id: the email decides
                  Member("x", {"email": "nobody@example.com"}, "")]
        erased = destination.erase(doomed)
        assert [o.status for o in erased] == [DELIVERED] * 4 and erased[3].reason == "no such contact at SendGrid"
        assert sorted(server.contacts) == ["p3@example.com", "p4@example.com"]
        assert server.writes["delete_contacts"] == 1


def test_suppressions_since_a_time():
    with SendGridStandin() as server:
        server.unsubscribe("Early@example.com", 100)
        server.bounce("b@example.com", 200)
        server.spam_report("c@example.com", 300)
        server.group_unsubscribe(7, "D@example.com", 250)
        server.group_unsubscribe(8, "old@example.com", 50)
        for n in range(600):  # more than one page of 500
            server.unsubscribe(f"u{n}@example.com", 1_000 + n)
        destination = connect(server)
        found = destination.suppressions(datetime.fromtimestamp(150, UTC).isoformat())
        assert len(found) == 603
        named = {(s.identifier_value, s.reason, s.occurred_at) for s in found if not s.identifier_value.startswith("u")}
        assert named == {
            ("b@example.com", "bounce", "1970-01-01T00:03:20+00:00"),
            ("c@example.com", "spamreport", "1970-01-01T00:05:00+00:00"),
            ("d@example.com", "group_unsubscribe", "1970-01-01T00:04:10+00:00")}
        assert {s.identifier_type for s in found} == {"email"}
        assert len(destination.suppressions(None)) == 605
        assert len(destination.suppressions("1970-01-01T00:16:40")) == 600  # naive times are UTC


def test_the_api_key_never_appears_in_outcomes_errors_or_logs(caplog, capsys):
    sentinel = f"SG.sentinel-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    texts = []
    with SendGridStandin(api_key=sentinel) as server:
        destination = connect(server, custom_fields=["segment"])
        members = [*people(5, segment="a"), Member("bad", {"email": "bad@"}, "")]
        outcomes = destination.upsert(AUDIENCE, members, "run-1")
        outcomes += destination.remove(AUDIENCE, members[:2], "run-2") + destination.erase(members[2:3])
        texts += [repr(s) for s in destination.suppressions(None)]
        server.faults = Faults(server_error=0.5, rate_limited=0.5)
        outcomes += destination.upsert(AUDIENCE, people(2, start=10), "run-3")
        server.faults = Faults()
        with pytest.raises(SendGridError) as denied:
            connect(server, key=f"{sentinel}-revoked").prepare("other")
    assert {o.status for o in outcomes} == {DELIVERED, REJECTED, FAILED}
    assert denied.value.status == 401
    texts += [repr(o) for o in outcomes] + [str(denied.value), repr(denied.value), repr(destination.connection),
                                            repr(destination.config), caplog.text, *capsys.readouterr()]
    assert "Bearer [redacted]" in caplog.text  # the SDK's header log was seen, and scrubbed
    assert not [t for t in texts if sentinel in t]
