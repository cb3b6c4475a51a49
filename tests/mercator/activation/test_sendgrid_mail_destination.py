"""The SendGrid Mail Send destination against the SendGrid stand-in, over HTTP with the real SDK."""

from __future__ import annotations

import logging
import socket
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal

import duckdb
import pytest
from mercator.activation import sendgrid_client
from mercator.activation.audiences import AudienceSpec, DestinationSpec
from mercator.activation.destination import DELIVERED, FAILED, REJECTED, UNKNOWN, ConfigError, Connection, Member
from mercator.activation.journal import Journal
from mercator.activation.runner import destination_class
from mercator.activation.sendgrid_mail import MAX_MAIL_BYTES, SendGridMailDestination
from mercator.activation.sync import sync_audience

from tests.mercator.activation.engine_fixtures import CUSTOMERS, build_warehouse, customer, opener, write_audience
from tests.standins.sendgrid_server import SendGridStandin
from tests.standins.standin import Faults

AUDIENCE, RUN = "winback_email", "scheduled__2026-03-01T00:00:00+00:00"
DAY2 = "scheduled__2026-03-02T00:00:00+00:00"
SENDER = "news@shop.example"


pytestmark = pytest.mark.usefixtures("sendgrid_waits")  # no backoff or pacing wait is slept


@pytest.fixture
def server():
    with SendGridStandin() as standin:
        yield standin


def mailer(
    server: SendGridStandin, key: str | None = None, base_url: str | None = None, **options
) -> SendGridMailDestination:
    connection = Connection("mercator_sendgrid", host=base_url or server.base_url, password=key or server.api_key)
    template = min(server.templates) if server.templates else server.add_template()
    return SendGridMailDestination.from_options({"template_id": template, "from_email": SENDER, **options}, connection)


def people(n: int, start: int = 0) -> list[Member]:
    return [
        Member(f"k{i}", {"email": f"p{i}@example.com", "first_name": f"First{i}", "segment": f"s{i % 3}"}, f"h{i}")
        for i in range(start, start + n)
    ]


def test_2500_members_go_out_as_three_requests_and_each_recipient_gets_its_own_message(server):
    destination = mailer(
        server,
        from_name="The Shop",
        asm_group_id=42,
        categories=["winback"],
        template_data=["first_name"],
        custom_args=["segment"],
    )
    members = people(2_500)
    outcomes = destination.upsert(AUDIENCE, members, RUN)

    per_request = Counter(m.message_id for m in server.messages)
    assert sorted(per_request.values(), reverse=True) == [1_000, 1_000, 500] and server.requests["mail_send"] == 3
    assert [(o.customer_key, o.status) for o in outcomes] == [(m.customer_key, DELIVERED) for m in members]
    received = {m.to: m for m in server.messages}
    assert len(received) == len(server.messages) == 2_500  # one message each
    for member, outcome in zip(members, outcomes, strict=True):
        got = received[(member.fields["email"],)]
        assert outcome.remote_id == got.message_id
        assert got.dynamic_template_data == {"first_name": member.fields["first_name"]}
        assert got.custom_args == {
            "campaign": AUDIENCE,
            "mercator_customer": member.customer_key,
            "mercator_run": RUN,
            "segment": member.fields["segment"],
        }
    assert {(m.template_id, m.from_email, m.categories, str(m.asm)) for m in server.messages} == {
        (destination.config.template_id, SENDER, ("winback",), "{'group_id': 42}")
    }
    assert (destination.delivers_messages, destination.members_per_request, destination.kind) == (
        True,
        1_000,
        "sendgrid_mail",
    )
    assert destination_class("sendgrid_mail") is SendGridMailDestination


def test_template_data_defaults_to_every_field_but_the_email_as_json(server):
    member = Member(
        "k1",
        {
            "email": " Ann@Example.com ",
            "first_name": "Ann",
            "clv": Decimal("12.50"),
            "since": date(2026, 3, 1),
            "score": float("nan"),
            "tags": ["a", "b"],
            "city": None,
        },
        "h",
    )
    [outcome] = mailer(server, custom_args=["clv", "since", "city"]).upsert(AUDIENCE, [member], RUN)
    [message] = server.messages
    assert (outcome.status, message.to) == (DELIVERED, ("Ann@Example.com",))
    assert message.dynamic_template_data == {
        "first_name": "Ann",
        "clv": 12.5,
        "since": "2026-03-01",
        "score": None,
        "tags": ["a", "b"],
        "city": None,
    }
    assert message.custom_args == {
        "campaign": AUDIENCE,
        "mercator_customer": "k1",
        "mercator_run": RUN,
        "clv": "12.50",
        "since": "2026-03-01",
    }  # strings; an empty field is left out


@pytest.mark.parametrize("kind, seed", [("rate_limited", 1), ("server_error", 4)])
def test_a_429_or_5xx_is_retried_and_nothing_is_sent_twice(sendgrid_waits, kind, seed):
    with SendGridStandin(faults=Faults(**{kind: 0.5}, seed=seed)) as server:  # refused once, then accepted
        outcomes = mailer(server).upsert(AUDIENCE, people(20), RUN)
    assert dict(server.faults_injected) == {kind: 1} and server.requests["mail_send"] == 2
    assert {o.status for o in outcomes} == {DELIVERED} and len(sendgrid_waits) == 1
    assert sorted(m.to for m in server.messages) == sorted((m.fields["email"],) for m in people(20))


def test_spent_retries_fail_the_members_and_a_refused_key_stops_the_call(server, sendgrid_waits):
    server.faults = Faults(rate_limited=1.0)
    outcomes = mailer(server, max_attempts=3).upsert(AUDIENCE, people(3), RUN)
    assert {o.status for o in outcomes} == {FAILED} and outcomes[0].reason.endswith(
        "429 too many requests (after 3 attempts)"
    )
    server.faults = Faults()
    refused = mailer(server, key="SG.revoked").upsert(AUDIENCE, people(1_001), RUN)
    assert {o.status for o in refused} == {FAILED} and "401" in refused[-1].reason
    assert server.requests["mail_send"] == 3 + 1 and server.messages == []  # the second request never went out


def test_no_answer_after_the_request_was_written_is_unknown_and_never_resent():
    for faults in (Faults(timeout=1.0, timeout_seconds=0.4), Faults(reset_after_write=1.0)):
        with SendGridStandin(faults=faults) as server:
            outcomes = mailer(server, timeout_seconds=0.1).upsert(AUDIENCE, people(5), RUN)
            server.wait_idle()
            assert {o.status for o in outcomes} == {UNKNOWN} and "may have been sent" in outcomes[0].reason
            assert server.requests["mail_send"] == 1 and len(server.messages) == 5  # accepted once, not retried


def test_a_connection_never_opened_is_retried_then_failed(server, sendgrid_waits):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    outcomes = mailer(server, base_url=closed, max_attempts=3).upsert(AUDIENCE, people(2), RUN)
    assert {o.status for o in outcomes} == {FAILED} and "URLError" in outcomes[0].reason and len(sendgrid_waits) == 2


def test_an_invalid_recipient_is_rejected_alone_and_the_others_delivered(server):
    members = people(50)
    members[17] = Member("bad", {"email": "not-an-email", "first_name": "X"}, "h")
    members[30] = Member("blank", {"email": "  "}, "h")
    outcomes = mailer(server).upsert(AUDIENCE, members, RUN)
    assert [(o.customer_key, o.status, o.reason) for o in outcomes if o.status != DELIVERED] == [
        ("bad", REJECTED, "400 Does not contain a valid address. (to.0.email)"),
        ("blank", REJECTED, "no email"),
    ]
    assert server.requests["mail_send"] == 2 and len(server.messages) == 48  # refused once, then without it


def test_an_error_naming_no_field_is_halved_down_to_the_culprit_and_a_global_one_rejects_all():
    with SendGridStandin(name_error_fields=False) as server:
        members = people(8)
        members[5] = Member("bad", {"email": "bad@example"}, "h")
        outcomes = mailer(server).upsert(AUDIENCE, members, RUN)
        assert [o.customer_key for o in outcomes if o.status == REJECTED] == ["bad"]
        assert len(server.messages) == 7 and server.requests["mail_send"] == 7  # 8, 4+4, 2+2, 1+1
    with SendGridStandin() as server:
        destination = mailer(server)
        server.templates.clear()  # the template was deleted at SendGrid
        outcomes = destination.upsert(AUDIENCE, people(10), RUN)
        assert {o.status for o in outcomes} == {REJECTED} and "template_id" in outcomes[0].reason
        assert server.requests["mail_send"] == 1


def test_requests_stay_under_30_mb_and_oversized_members_are_rejected(server):
    def member(key: str, note_bytes: int) -> Member:
        return Member(key, {"email": f"{key}@example.com", "note": "n" * note_bytes}, "h")

    outcomes = mailer(server).upsert(
        AUDIENCE,
        [
            member("a", MAX_MAIL_BYTES // 2 + 1_000),
            member("b", MAX_MAIL_BYTES // 2 + 1_000),
            member("huge", MAX_MAIL_BYTES),
        ],
        RUN,
    )
    assert [o.status for o in outcomes] == [DELIVERED, DELIVERED, REJECTED]
    assert outcomes[2].reason == f"message over {MAX_MAIL_BYTES:,} bytes" and server.requests["mail_send"] == 2
    [args] = mailer(server, template_data=[], custom_args=["note"]).upsert(AUDIENCE, [member("args", 10_000)], RUN)
    assert (args.status, args.reason) == (REJECTED, "custom args over 10,000 bytes")
    assert server.requests["mail_send"] == 2


def test_sandbox_mode_validates_and_sends_nothing(server):
    outcomes = mailer(server, sandbox_mode=True).upsert(AUDIENCE, people(3), RUN)
    assert {(o.status, o.reason, o.remote_id) for o in outcomes} == {
        (DELIVERED, "sandbox mode: validated, not sent", None)
    }
    assert server.requests["mail_send"] == 1 and server.messages == []


@pytest.mark.parametrize(
    "options",
    [
        {"template_id": "welcome"},
        {"from_email": "news"},
        {"asm_group_id": "7"},
        {"categories": "winback"},
        {"categories": [f"c{n}" for n in range(11)]},
        {"custom_args": ["campaign"]},
        {"custom_args": ["email"]},
        {"template_data": [1]},
        {"max_attempts": 0},
        {"subject": "Hi"},
    ],
)
def test_wrong_options_are_a_config_error(options):
    base = {"template_id": f"d-{uuid.uuid4().hex}", "from_email": SENDER}
    with pytest.raises(ConfigError, match="sendgrid_mail"):
        SendGridMailDestination.from_options({**base, **options}, Connection("c", password="SG.k"))
    with pytest.raises(ConfigError, match="API key"):
        SendGridMailDestination.from_options(base, Connection("c"))


def test_fields_the_audience_lacks_are_a_config_error(server):
    destination = mailer(server, template_data=["first_name"], custom_args=["segment"])
    destination.validate_fields(["customer_key", "email", "first_name", "segment"])
    with pytest.raises(ConfigError, match=r"\['email', 'segment'\]"):
        destination.validate_fields(["customer_key", "first_name"])


def test_suppressions_are_pulled_like_the_contacts_destination(server):
    server.unsubscribe("Gone@example.com", 100)
    server.group_unsubscribe(42, "topic@example.com", 200)
    found = mailer(server).suppressions(None)
    assert {(s.identifier_value, s.reason) for s in found} == {
        ("gone@example.com", "unsubscribe"),
        ("topic@example.com", "group_unsubscribe"),
    }


def test_neither_the_api_key_nor_an_address_reaches_a_log_or_an_outcome(caplog):
    sentinel = f"SG.sentinel-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    with SendGridStandin(api_key=sentinel, faults=Faults(rate_limited=0.3, server_error=0.3, seed=2)) as server:
        members = [*people(5), Member("bad", {"email": "bad@example"}, "h")]
        outcomes = mailer(server).upsert(AUDIENCE, members, RUN)
        outcomes += mailer(server, key=f"{sentinel}-revoked").upsert(AUDIENCE, people(2), RUN)
    assert {o.status for o in outcomes} == {DELIVERED, REJECTED, FAILED}
    assert "Bearer [redacted]" in caplog.text and "mail/send" in caplog.text  # the SDK's log was seen, scrubbed
    texts = [caplog.text, *(repr(o) for o in outcomes)]
    assert not [t for t in texts if sentinel in t or "example.com" in t or "@" in t]


class Killed(BaseException):
    """The sync process dying (as under SIGKILL): nothing after it runs."""


def die(seconds: float) -> None:
    raise Killed


def test_through_the_engine_a_rerun_sends_nothing_twice_and_a_crashed_request_is_held_back(
    tmp_path, server, monkeypatch
):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    target = DestinationSpec("sendgrid_mail", "mercator_sendgrid")
    spec = AudienceSpec(
        "audience_everyone",
        "marts.audience_everyone",
        "email",
        (target,),
        holdout_share=0.0,
        holdout_salt="audience_everyone",
        consent="email_consent",
        fields={"email": "email", "first_name": "first_name"},
    )
    journal = Journal.for_sync(tmp_path, target.destination_id, spec.name)

    def sync(run_id: str):
        return sync_audience(opener(warehouse), spec, target.destination_id, mailer(server), run_id, journal=journal)

    eligible = {c[0]: c[1] for c in map(customer, range(CUSTOMERS)) if c[4] == "granted" and c[0] != "k10"}
    first = [f"k{i:02d}" for i in range(20)]
    write_audience(warehouse, first)
    assert sync(RUN).counts["delivered"] == len([k for k in eligible if k in first])

    write_audience(warehouse, [f"k{i:02d}" for i in range(CUSTOMERS)])
    server.rate_limits = {"mail_send": (2, 60.0)}  # with the first sync's, this answer uses up the window:
    monkeypatch.setattr(sendgrid_client, "sleep", die)  # the client pauses before returning it, and dies
    with pytest.raises(Killed):
        sync(DAY2)
    in_flight = {k for k in eligible if k not in first}
    assert {m.to[0] for m in server.messages[-len(in_flight) :]} == {eligible[k] for k in in_flight}

    server.rate_limits = {}
    monkeypatch.setattr(sendgrid_client, "sleep", lambda seconds: None)
    rerun = sync(DAY2).counts
    assert (rerun["sent"], rerun["unchanged"], rerun["held_back"]) == (
        0,
        len(eligible) - len(in_flight),
        len(in_flight),
    )
    per_address = Counter(to for m in server.messages for to in m.to)
    assert set(per_address) == set(eligible.values()) and max(per_address.values()) == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        states = dict(con.execute("select customer_key, status from activation.sync_state").fetchall())
    assert {k for k, status in states.items() if status == "unknown"} == in_flight
