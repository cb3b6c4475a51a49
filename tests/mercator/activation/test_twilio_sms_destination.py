"""The Twilio SMS destination against the Twilio stand-in, with the real `twilio` SDK over HTTP."""

from __future__ import annotations

import logging
import socket

import pytest
from mercator.activation.destination import ConfigError, Connection, Member
from mercator.activation.twilio_sms import TwilioSmsDestination, TwilioSmsOptions

from tests.standins.standin import Faults, Reply, Request
from tests.standins.twilio_server import ACCOUNT_SID, MESSAGING_SERVICE_SID, SENDER, TwilioStandin

TEMPLATE = "Hi {first_name}, we miss you: 15% off with code {coupon}"
SENTINEL = "sentinel-auth-token-9f3c"
CLIENT_TIMEOUT, HELD = 0.25, 0.6  # a timeout fault holds the request past the client's timeout


@pytest.fixture
def standin():
    with TwilioStandin(auth_token=SENTINEL) as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    return []


def connect(server: TwilioStandin, **extra: str) -> Connection:
    return Connection("mercator_twilio", host=server.base_url, login=server.account_sid, password=server.auth_token,
                      extra=extra or {"from_number": SENDER})


def sms(server: TwilioStandin, waits: list[float], template: str = TEMPLATE, timeout: float = 5.0,
        **extra: str) -> TwilioSmsDestination:
    return TwilioSmsDestination(TwilioSmsOptions(template), connect(server, **extra), timeout=timeout,
                                sleep=waits.append)


def member(n: int, phone: str | None = None, **fields: object) -> Member:
    values = {"phone": f"+1415555{n:04d}" if phone is None else phone, "first_name": f"Ada{n}", "coupon": f"WB{n}",
              **fields}
    return Member(f"c{n}", values, f"hash{n}")


@pytest.mark.parametrize("sender", [{"from_number": SENDER}, {"messaging_service_sid": MESSAGING_SERVICE_SID}])
def test_each_member_gets_its_rendered_message(standin, waits, sender):
    destination = TwilioSmsDestination(TwilioSmsOptions(TEMPLATE, status_callback="https://example.test/status"),
                                       connect(standin, **sender), sleep=waits.append)
    outcomes = destination.upsert("winback_sms", [member(1), member(2)], "run-1")
    assert [(o.customer_key, o.status) for o in outcomes] == [("c1", "delivered"), ("c2", "delivered")]
    assert [o.remote_id for o in outcomes] == [m.sid for m in standin.messages]
    assert [m.body for m in standin.messages] == ["Hi Ada1, we miss you: 15% off with code WB1",
                                                  "Hi Ada2, we miss you: 15% off with code WB2"]
    assert {(m.from_, m.messaging_service_sid, m.status_callback) for m in standin.messages} == {
        (sender.get("from_number"), sender.get("messaging_service_sid"), "https://example.test/status")}
    assert (TwilioSmsDestination.kind, destination.channels, destination.identifier) == ("twilio_sms", ("sms",),
                                                                                         "phone")
    assert destination.delivers_messages and destination.max_batch == 100


def test_template_and_connection_are_checked_before_sending(standin, waits):
    destination = sms(standin, waits)
    destination.validate_fields(["phone", "first_name", "coupon", "segment"])
    with pytest.raises(ConfigError, match=r"\['coupon'\]"):
        destination.validate_fields(["phone", "first_name"])
    for bad in ("Hi {first_name!r}", "Hi {0}", "Hi {}", "Hi {first_name:>9}", "Hi {user.name}", "Hi {", "  "):
        with pytest.raises(ConfigError, match="template"):
            TwilioSmsOptions(bad)
    with pytest.raises(ConfigError, match="status_callback"):
        TwilioSmsOptions(TEMPLATE, status_callback="ftp://x")
    with pytest.raises(ConfigError, match="messaging_service_sid' or 'from_number"):
        TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), connect(standin, region="us1"))
    with pytest.raises(ConfigError, match="login"):
        TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), None)
    with pytest.raises(ConfigError, match="unknown option"):
        TwilioSmsDestination.from_options({"template": TEMPLATE, "sender": "x"}, connect(standin))
    assert isinstance(TwilioSmsDestination.from_options({"template": TEMPLATE}, connect(standin)),
                      TwilioSmsDestination)
    assert standin.log == []


def test_numbers_not_e164_and_bodies_that_cannot_go_are_rejected_without_a_request(standin, waits):
    phones = ["4155550100", "+04155550100", "+1 415 555 0100", "+1234567", "+1234567890123456", "", " +14155550100"]
    members = [member(n, phone) for n, phone in enumerate(phones)]
    members += [Member("no_phone", {"first_name": "A", "coupon": "B"}, "h"), member(90, coupon=None),
                member(91, first_name=""), member(92, coupon="x" * 1600)]
    outcomes = sms(standin, waits).upsert("winback_sms", members, "run-1")
    assert [o.reason for o in outcomes] == ["not E.164"] * 8 + [
        "template field coupon is empty", "template field first_name is empty",
        "body of 1641 characters exceeds 1600"]
    assert {o.status for o in outcomes} == {"rejected"}
    assert standin.log == []


def test_opt_outs_are_suppressed_and_invalid_numbers_rejected_with_their_code(standin, waits):
    standin.stopped.add("+14155550001")
    standin.invalid.add("+14155550002")
    standin.landlines.add("+14155550003")
    outcomes = sms(standin, waits).upsert("winback_sms", [member(n) for n in range(1, 5)], "run-1")
    assert [(o.status, o.reason) for o in outcomes[:3]] == [
        ("suppressed", "opted out with STOP (21610)"), ("rejected", "invalid number (21211)"),
        ("rejected", "not SMS-capable (21614)")]
    assert outcomes[3].status == "delivered"
    assert len(standin.log) == 4 and waits == []


def test_other_refusals_are_rejected_and_a_refused_account_stops_the_batch(standin, waits):
    (refused,) = sms(standin, waits, from_number="+15550000000").upsert("winback_sms", [member(1)], "run-1")
    assert (refused.status, refused.reason) == ("rejected", "Twilio error (HTTP 400, 21606)")
    wrong = Connection("mercator_twilio", host=standin.base_url, login=ACCOUNT_SID, password="wrong",
                       extra={"from_number": SENDER})
    outcomes = TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), wrong).upsert("winback_sms",
                                                                             [member(n) for n in range(3)], "run-1")
    assert {(o.status, o.reason) for o in outcomes} == {
        ("failed", "Twilio account not found or not authorised (HTTP 401, 20003)")}
    assert len(outcomes) == 3 and len(standin.log) == 2  # one request for the whole refused batch


def test_a_429_is_retried_with_backoff_and_delivered_once(standin):
    standin.faults = Faults(rate_limited=1.0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            standin.faults = Faults()

    destination = TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), connect(standin), sleep=sleep)
    (outcome,) = destination.upsert("winback_sms", [member(1)], "run-1")
    assert outcome.status == "delivered" and waits == [1.0, 2.0]
    assert [m.sid for m in standin.sent_to("+14155550001")] == [outcome.remote_id]
    assert [r.status for r in standin.log] == [429, 429, 201]


def test_concurrency_429_20429_and_exhausted_retries(waits):
    with TwilioStandin(max_concurrent=0) as busy:  # every request is beyond the limit: 429 with code 20429
        (outcome,) = sms(busy, waits).upsert("winback_sms", [member(1)], "run-1")
        assert (outcome.status, outcome.reason) == ("failed", "rate limited (HTTP 429, 20429) after 5 attempts")
        assert waits == [1.0, 2.0, 4.0, 8.0] and busy.messages == [] and len(busy.log) == 5


def test_a_connection_never_opened_is_retried_then_failed(waits):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Connection("mercator_twilio", host=f"http://127.0.0.1:{port}", login=ACCOUNT_SID, password=SENTINEL,
                        extra={"from_number": SENDER})
    destination = TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), closed, sleep=waits.append)
    (outcome,) = destination.upsert("winback_sms", [member(1)], "run-1")
    assert (outcome.status, outcome.reason) == ("failed", "could not connect (ConnectionError) after 5 attempts")
    assert len(waits) == 4


@pytest.mark.parametrize("fault", ["server_error", "reset_after_write", "timeout"])
def test_an_ambiguous_answer_is_unknown_and_never_resent(fault, waits):
    with TwilioStandin(faults=Faults(**{fault: 1.0}, timeout_seconds=HELD)) as server:
        (outcome,) = sms(server, waits, timeout=CLIENT_TIMEOUT).upsert("winback_sms", [member(1)], "run-1")
        server.wait_idle()
        assert outcome.status == "unknown" and "may have gone out" in outcome.reason
        assert len(server.log) == 1 and waits == []
        assert len(server.messages) == (0 if fault == "server_error" else 1)  # a 5xx fault is not processed


@pytest.mark.parametrize("fault", ["server_error", "reset_after_write", "timeout"])
def test_an_unknown_send_is_reconciled_with_the_messages_twilio_holds(fault, waits):
    """Found with the same body: delivered with its sid; nothing held for the number: the request
    never reached Twilio and is sent now. Either way the number has one message."""
    with TwilioStandin(faults=Faults(**{fault: 1.0}, timeout_seconds=HELD)) as server:
        (lost,) = sms(server, waits, timeout=CLIENT_TIMEOUT).upsert("winback_sms", [member(1)], "run-1")
        server.wait_idle()
        server.faults = Faults()
        (outcome,) = sms(server, waits).reconcile("winback_sms", [member(1)], "run-2")
        assert lost.status == "unknown" and outcome.status == "delivered"
        assert [m.sid for m in server.messages] == [outcome.remote_id]
        assert server.requests["list_messages"] == 1
        assert server.requests["create_message"] == (2 if fault == "server_error" else 1)


def test_no_phone_number_or_body_reaches_the_logs(standin, waits, caplog):
    caplog.set_level(logging.INFO)  # Airflow's level (at DEBUG urllib3 itself logs each URL)
    destination = sms(standin, waits)
    destination.upsert("winback_sms", [member(1)], "run-1")
    destination.reconcile("winback_sms", [member(2)], "run-2")  # lists the number's messages (GET ?To=)
    assert standin.requests["list_messages"] == 1 and len(standin.messages) == 2
    assert caplog.records and not any(text in caplog.text for text in ("4155550001", "4155550002", "Ada1", "Ada2"))


def test_a_number_holding_other_messages_but_not_this_one_stays_unknown(standin, waits):
    sms(standin, waits, template="Hello {first_name}").upsert("welcome_sms", [member(1)], "run-0")
    (outcome,) = sms(standin, waits).reconcile("winback_sms", [member(1)], "run-1")
    assert (outcome.status, outcome.reason) == ("unknown", "Twilio holds other messages to the number, not this body")
    assert len(standin.messages) == 1


class GarbledTwilio(TwilioStandin):
    """Applies the request, then answers with a proxy's HTML page instead of Twilio's JSON."""

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        status = super().handle(endpoint, request, params).status
        return Reply(status, b"<html>upstream</html>", {"Content-Type": "text/html"})


def test_an_unreadable_answer_is_unknown(waits):
    with GarbledTwilio() as server:
        (outcome,) = sms(server, waits).upsert("winback_sms", [member(1)], "run-1")
        assert (outcome.status, outcome.reason) == ("unknown", "unreadable answer: the SMS may have gone out")
        assert len(server.messages) == 1 and len(server.log) == 1


def test_with_20_percent_faults_no_member_gets_two_messages(waits):
    faults = Faults(rate_limited=0.05, server_error=0.05, timeout=0.05, reset_after_write=0.05, timeout_seconds=HELD,
                    seed=11)
    with TwilioStandin(faults=faults) as server:
        members = [member(n) for n in range(80)]
        outcomes = sms(server, waits, timeout=CLIENT_TIMEOUT).upsert("winback_sms", members, "run-1")
        server.wait_idle()
        sent = {m.to: [x.sid for x in server.sent_to(m.to)] for m in server.messages}
        for m, outcome in zip(members, outcomes, strict=True):
            got = sent.get(m.fields["phone"], [])
            assert len(got) <= 1
            if outcome.status == "delivered":
                assert got == [outcome.remote_id]
        statuses = [o.status for o in outcomes]
        assert set(statuses) == {"delivered", "unknown"}
        assert statuses.count("unknown") == sum(server.faults_injected[k] for k in
                                                ("server_error", "timeout", "reset_after_write"))
        assert server.faults_injected["rate_limited"] == len(waits) > 0


def test_the_auth_token_never_shows(standin, waits, caplog):
    caplog.set_level(logging.DEBUG)
    standin.invalid.add("+14155550002")
    destination = sms(standin, waits, timeout=CLIENT_TIMEOUT)
    outcomes = destination.upsert("winback_sms", [member(1), member(2), member(3, "bad")], "run-1")
    standin.faults = Faults(reset_after_write=0.5, server_error=0.5)
    outcomes += destination.upsert("winback_sms", [member(n) for n in range(4, 8)], "run-1")
    standin.faults = Faults()
    other = Connection("mercator_twilio", host=standin.base_url, login=ACCOUNT_SID, password=SENTINEL + "x",
                       extra={"from_number": SENDER})
    outcomes += TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), other).upsert("winback_sms", [member(8)], "run-1")
    errors = []
    for connection in (Connection("c", password=SENTINEL), Connection("c", login=ACCOUNT_SID, password=SENTINEL)):
        with pytest.raises(ConfigError) as error:
            TwilioSmsDestination(TwilioSmsOptions(TEMPLATE), connection)
        errors.append(str(error.value))
    assert {o.status for o in outcomes} == {"delivered", "rejected", "unknown", "failed"}
    shown = " ".join([caplog.text, repr(outcomes), repr(destination.connection), repr(vars(destination)),
                      *errors])
    assert "twilio_sms winback_sms" in caplog.text and SENTINEL not in shown
