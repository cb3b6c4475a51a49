"""The signed webhook destination against the Standard Webhooks receiver stand-in, over real HTTP."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate

import pytest
from mercator.activation.destination import ConfigError, Connection, Member
from mercator.activation.webhook import WebhookDestination, WebhookOptions
from standardwebhooks import Webhook

from tests.standins.standin import Faults, Reply
from tests.standins.webhook_server import WebhookStandin

SENTINEL_KEY = b"sentinel-signing-key-0123456789ab"
SENTINEL = "whsec_" + base64.b64encode(SENTINEL_KEY).decode()
CLIENT_TIMEOUT, HELD = 0.25, 0.6  # a timeout fault holds the request past the client's timeout


@pytest.fixture
def hook():
    with WebhookStandin(secret=SENTINEL) as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    return []


def webhook(server: WebhookStandin, waits: list[float], *, timeout: float = 5.0,
            clock: Callable[[], float] = time.time,
            **options: object) -> WebhookDestination:
    connection = Connection("mercator_webhook_welcome", host=server.url, password=server.secret)
    return WebhookDestination(WebhookOptions(**options), connection, timeout=timeout, sleep=waits.append, clock=clock)


def members(count: int, start: int = 0) -> list[Member]:
    return [Member(f"c{n}", {"email": f"user{n}@example.com", "segment": "new"}, f"h{n}")
            for n in range(start, start + count)]


def test_a_batch_is_one_signed_post_the_reference_verifier_accepts(hook, waits):
    destination = webhook(hook, waits)
    outcomes = destination.upsert("welcome", members(3), "run-1")
    assert [(o.customer_key, o.status) for o in outcomes] == [("c0", "delivered"), ("c1", "delivered"),
                                                              ("c2", "delivered")]
    ((webhook_id, payload),) = hook.deliveries.items()
    assert payload == {"type": "audience.members", "audience": "welcome", "run_id": "run-1",
                       "members": [{"customer_key": f"c{n}", "email": f"user{n}@example.com", "segment": "new"}
                                   for n in range(3)]}
    assert webhook_id.startswith("msg_") and hook.unverified == []
    assert (destination.kind, destination.channels, destination.identifier) == ("webhook", ("webhook",),
                                                                                "customer_key")


def test_the_signature_is_the_standard_one(hook, waits):
    destination = webhook(hook, waits, clock=lambda: 1_700_000_000.9)
    headers = destination._headers("msg_1", b'{"a":1}')
    expected = Webhook(SENTINEL).sign("msg_1", datetime.fromtimestamp(1_700_000_000, UTC), '{"a":1}')
    assert (headers["webhook-timestamp"], headers["webhook-signature"]) == ("1700000000", expected)


def test_a_wrong_secret_or_a_stale_timestamp_is_refused_by_the_receiver(hook, waits):
    other = "whsec_" + base64.b64encode(b"another-signing-key-0123456789ab").decode()
    wrong = WebhookDestination(WebhookOptions(), Connection("w", host=hook.url, password=other), sleep=waits.append)
    stale = webhook(hook, waits, clock=lambda: time.time() - 301)
    outcomes = wrong.upsert("welcome", members(1), "run-1") + stale.upsert("welcome", members(1, 1), "run-1")
    assert [(o.status, o.reason) for o in outcomes] == [("rejected", "HTTP 401")] * 2
    assert hook.deliveries == {} and hook.unverified == ["No matching signature found", "Message timestamp too old"]


def test_members_go_in_batches_of_batch_size(hook, waits):
    connection = Connection("mercator_webhook_welcome", host=hook.url, password=hook.secret)
    destination = WebhookDestination.from_options({"batch_size": 40, "triggers_message": False}, connection)
    assert (destination.max_batch, destination.delivers_messages) == (40, False)
    assert WebhookDestination.delivers_messages and webhook(hook, waits).max_batch == 100
    outcomes = destination.upsert("welcome", members(100), "run-1")
    assert {o.status for o in outcomes} == {"delivered"} and len(outcomes) == 100
    assert [len(p["members"]) for p in hook.deliveries.values()] == [40, 40, 20]
    assert [m["customer_key"] for m in hook.members()] == [f"c{n}" for n in range(100)]


def test_large_members_split_a_batch_and_one_too_large_is_rejected(hook, waits):
    big = [Member(f"b{n}", {"bio": "x" * 20_000}, "h") for n in range(5)]
    huge = Member("huge", {"bio": "x" * 70_000}, "h")
    outcomes = webhook(hook, waits).upsert("welcome", [*big[:2], huge, *big[2:]], "run-1")
    assert [(o.customer_key, o.status) for o in outcomes if o.status != "delivered"] == [("huge", "rejected")]
    assert [len(p["members"]) for p in hook.deliveries.values()] == [3, 2]
    assert max(len(json.dumps(p, separators=(",", ":"))) for p in hook.deliveries.values()) <= 64_000


def test_the_same_batch_carries_the_same_webhook_id(hook, waits):
    destination = webhook(hook, waits)
    changed = [members(1)[0], Member("c1", {"email": "user1@example.com", "segment": "vip"}, "h1b")]
    for batch, run_id in ((members(2), "run-1"), (members(2), "run-1"), (members(2), "run-2"), (changed, "run-1")):
        destination.upsert("welcome", batch, run_id)
    assert hook.ids[0] == hook.ids[1] and len(set(hook.ids)) == 3
    assert len(hook.deliveries) == 3 and hook.attempts[hook.ids[0]] == 2


@pytest.mark.parametrize(("status", "retry_after", "wait"), [
    (429, "7", 7.0), (503, 12, 12.0), (429, -30, 0.0), (502, None, 1.0), (504, "soon", 1.0)])
def test_slow_down_answers_are_retried_honouring_retry_after(hook, waits, status, retry_after, wait):
    now = float(int(time.time()))
    if isinstance(retry_after, int):  # an HTTP date this many seconds from now
        retry_after = formatdate(now + retry_after, usegmt=True)
    hook.answer_next(Reply(status, headers={"Retry-After": retry_after} if retry_after else {}))
    outcomes = webhook(hook, waits, clock=lambda: now).upsert("welcome", members(2), "run-1")
    assert {o.status for o in outcomes} == {"delivered"} and waits == [wait]
    assert len(hook.ids) == 2 and len(hook.deliveries) == 1


def test_retries_are_bounded(hook, waits):
    hook.answer_next(*[Reply(429)] * 5, Reply(503, headers={"Retry-After": "3600"}))
    destination = webhook(hook, waits)
    (exhausted,) = destination.upsert("welcome", members(1), "run-1")
    assert (exhausted.status, exhausted.reason) == ("failed", "HTTP 429 after 5 attempts")
    assert waits == [1.0, 2.0, 4.0, 8.0]
    (too_long,) = destination.upsert("welcome", members(1), "run-1")
    assert (too_long.status, too_long.reason) == ("failed", "HTTP 503 with Retry-After 3600 s (over 60)")
    assert len(waits) == 4 and hook.deliveries == {}


def test_410_disables_the_endpoint_for_the_rest_of_the_run(hook, waits):
    hook.gone = True
    destination = webhook(hook, waits, batch_size=2)
    outcomes = destination.upsert("welcome", members(5), "run-1")
    outcomes += destination.upsert("welcome", members(2, 5), "run-1")
    assert {(o.status, o.reason) for o in outcomes} == {("rejected", "endpoint disabled (410)")}
    assert len(outcomes) == 7 and len(hook.ids) == 1
    hook.gone = False
    assert {o.status for o in destination.upsert("welcome", members(2), "run-2")} == {"delivered"}


@pytest.mark.parametrize("fault", ["reset_after_write", "timeout"])
def test_a_lost_answer_is_resent_with_the_same_id_only_when_no_message_is_triggered(fault):
    with WebhookStandin(faults=Faults(**{fault: 1.0}, timeout_seconds=HELD)) as server:
        (trigger,) = webhook(server, [], timeout=CLIENT_TIMEOUT).upsert("welcome", members(1), "run-1")
        server.wait_idle()
        assert trigger.status == "unknown" and "may have acted on it" in trigger.reason
        assert len(server.ids) == 1 and len(server.deliveries) == 1

        def sleep(seconds: float) -> None:
            server.faults = Faults()

        connection = Connection("mercator_webhook_crm", host=server.url, password=server.secret)
        membership = WebhookDestination(WebhookOptions(triggers_message=False), connection, timeout=CLIENT_TIMEOUT,
                                        sleep=sleep)
        (delivered,) = membership.upsert("welcome", members(1, 1), "run-1")
        server.wait_idle()
        assert delivered.status == "delivered"
        assert len(server.ids) == 3 and server.ids[1] == server.ids[2]
        assert server.attempts[server.ids[2]] == 2 and len(server.deliveries) == 2


def test_an_endpoint_that_cannot_be_reached_is_retried_then_failed(waits):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Connection("mercator_webhook_welcome", host=f"http://127.0.0.1:{port}/hooks/a", password=SENTINEL)
    (outcome,) = WebhookDestination(WebhookOptions(), closed, sleep=waits.append).upsert("welcome", members(1), "run-1")
    assert (outcome.status, outcome.reason) == ("failed", "could not connect (ConnectError) after 5 attempts")
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_other_answers(hook, waits):
    hook.answer_next(Reply(400), Reply(500), Reply(500))
    (bad,) = webhook(hook, waits).upsert("welcome", members(1), "run-1")
    (unclear,) = webhook(hook, waits).upsert("welcome", members(1, 1), "run-1")
    (retried,) = webhook(hook, waits, triggers_message=False).upsert("welcome", members(1, 2), "run-1")
    assert [(o.status, o.reason) for o in (bad, unclear)] == [("rejected", "HTTP 400"),
                                                            ("unknown", "HTTP 500: the receiver may have acted on it")]
    assert retried.status == "delivered" and waits == [1.0] and len(hook.ids) == 4


@pytest.mark.parametrize("triggers_message", [False, True])
def test_with_20_percent_faults_every_member_arrives_once(triggers_message):
    faults = Faults(rate_limited=0.05, server_error=0.05, timeout=0.05, reset_after_write=0.05, timeout_seconds=HELD,
                    seed=4)
    with WebhookStandin(faults=faults) as server:
        destination = webhook(server, [], timeout=CLIENT_TIMEOUT, batch_size=10, triggers_message=triggers_message)
        outcomes = destination.upsert("welcome", members(300), "run-1")
        server.wait_idle()
        received = [m["customer_key"] for m in server.members()]
        assert len(received) == len(set(received)) and sum(server.faults_injected.values()) > 0
        delivered = {o.customer_key for o in outcomes if o.status == "delivered"}
        if triggers_message:  # never resent after sending: each webhook-id reached the receiver at most once
            assert set(server.attempts.values()) == {1} and delivered <= set(received)
            assert {o.status for o in outcomes} == {"delivered", "unknown"}
        else:
            assert delivered == set(received) == {f"c{n}" for n in range(300)}


def test_options_and_connection_are_checked(hook):
    def build(host: str = hook.url, password: str = SENTINEL, **options: object) -> WebhookDestination:
        return WebhookDestination.from_options(options, Connection("mercator_webhook_welcome", host=host,
                                                                   password=password))

    for options in ({"batch_size": 0}, {"batch_size": 1001}, {"batch_size": "10"}, {"batch_size": True},
                    {"triggers_message": "yes"}, {"url": "x"}):
        with pytest.raises(ConfigError):
            build(**options)
    for host, password in ((hook.url + "?token=abc", SENTINEL), ("https://user:pw@example.test/h", SENTINEL),
                           ("ftp://example.test/h", SENTINEL), ("", SENTINEL), (hook.url, "")):
        with pytest.raises(ConfigError, match="mercator_webhook_welcome|connection needs"):
            build(host, password)
    with pytest.raises(ConfigError, match="connection needs"):
        WebhookDestination(WebhookOptions(), None)
    assert build("example.test/hooks/a").url == "https://example.test/hooks/a"


def test_the_signing_secret_never_shows(hook, waits, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # another test's import may have raised its level
    hook.answer_next(Reply(400), Reply(429, headers={"Retry-After": "1"}))
    destination = webhook(hook, waits, batch_size=2)
    outcomes = destination.upsert("welcome", members(6), "run-1")
    hook.faults = Faults(reset_after_write=1.0)
    outcomes += destination.upsert("welcome", members(1, 6), "run-1")
    hook.faults, hook.gone = Faults(), True
    outcomes += destination.upsert("welcome", members(1, 7), "run-1")
    errors = []
    for password in ("whsec_" + base64.b64encode(SENTINEL_KEY[:12]).decode(), "whsec_" + SENTINEL_KEY.decode()):
        with pytest.raises(ConfigError) as error:
            WebhookDestination(WebhookOptions(), Connection("c", host=hook.url, password=password))
        errors.append(str(error.value))
    assert {o.status for o in outcomes} == {"delivered", "rejected", "unknown"}
    shown = " ".join([caplog.text, repr(outcomes), repr(destination.connection), repr(destination.__dict__), *errors])
    assert "HTTP Request" in caplog.text
    for secret in (SENTINEL, SENTINEL.removeprefix("whsec_"), SENTINEL_KEY.decode(), SENTINEL_KEY.decode()[:12]):
        assert secret not in shown
