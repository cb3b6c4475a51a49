"""The Twilio stand-in, driven by the real `twilio` SDK: documented path, error codes, opt-outs, faults."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import pytest
from requests.exceptions import ConnectionError, ReadTimeout
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.standins.standin import Faults, Reply, Request, StandinServer
from tests.standins.twilio_server import ACCOUNT_SID, MESSAGING_SERVICE_SID, SENDER, TwilioStandin

TO = "+14155550100"


def test_messages_reach_the_documented_path(twilio_standin: TwilioStandin, twilio: Client):
    sent = twilio.messages.create(to=TO, from_=SENDER, body="Hello")
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid) and sent.status == "queued"
    assert sent.date_created.year >= 2024
    via_service = twilio.messages.create(to=TO, messaging_service_sid=MESSAGING_SERVICE_SID, body="Hi")
    assert (via_service.status, via_service.messaging_service_sid) == ("accepted", MESSAGING_SERVICE_SID)
    assert {r.path for r in twilio_standin.log} == {f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"}
    assert [m.sid for m in twilio_standin.sent_to(TO)] == [sent.sid, via_service.sid]
    assert twilio_standin.writes["create_message"] == 2


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"to": "4155550100"}, 21211),
    ({"to": "+0155550100"}, 21211),
    ({"to": "+1415555010012345"}, 21211),
    ({"to": "+14155550199"}, 21211),  # marked invalid
    ({"to": "+14155550177"}, 21614),  # a landline
    ({"to": "+14155550166"}, 21610),  # replied STOP
    ({"from_": "+15550000000"}, 21606),
    ({"from_": None}, 21603),
    ({"from_": None, "messaging_service_sid": "MG123"}, 21705),
    ({"from_": None, "messaging_service_sid": "MG" + "f" * 32}, 21701),
    ({"body": ""}, 21602),
    ({"body": "x" * 1601}, 21617),
])
def test_documented_error_codes(twilio_standin: TwilioStandin, twilio: Client, kwargs: dict, code: int):
    twilio_standin.invalid.add("+14155550199")
    twilio_standin.landlines.add("+14155550177")
    twilio_standin.stopped.add("+14155550166")
    message = {"to": TO, "from_": SENDER, "body": "Hello", **kwargs}
    with pytest.raises(TwilioRestException) as rejected:
        twilio.messages.create(**{k: v for k, v in message.items() if v is not None})
    assert (rejected.value.status, rejected.value.code) == (400, code)
    assert twilio_standin.messages == []


def test_stop_and_start_keywords(twilio_standin: TwilioStandin, twilio: Client):
    assert twilio_standin.receive(TO, " Stop ") == "opt_out"
    with pytest.raises(TwilioRestException) as stopped:
        twilio.messages.create(to=TO, from_=SENDER, body="Sale!")
    assert stopped.value.code == 21610
    assert twilio_standin.receive(TO, "please stop") is None  # not the whole message
    assert twilio_standin.receive(TO, "start") == "opt_in"
    assert twilio.messages.create(to=TO, from_=SENDER, body="Welcome back").status == "queued"


def test_wrong_credentials_and_other_accounts(twilio_standin: TwilioStandin, twilio: Client):
    wrong = Client(ACCOUNT_SID, "wrong-token")
    wrong.api.base_url = twilio_standin.base_url
    with pytest.raises(TwilioRestException) as denied:
        wrong.messages.create(to=TO, from_=SENDER, body="Hello")
    assert (denied.value.status, denied.value.code) == (401, 20003)
    with pytest.raises(TwilioRestException) as elsewhere:
        twilio.api.v2010.accounts("AC" + "1" * 32).messages.create(to=TO, from_=SENDER, body="Hello")
    assert (elsewhere.value.status, elsewhere.value.code) == (404, 20404)
    assert twilio_standin.messages == []


def test_too_many_concurrent_requests_is_429():
    with TwilioStandin(max_concurrent=1, processing_seconds=0.5) as server:
        client = server.sdk_client()

        def send(n: int) -> int:
            try:
                client.messages.create(to=f"+1415555010{n}", from_=SENDER, body="Hello")
                return 201
            except TwilioRestException as err:
                assert err.code == 20429
                return err.status

        with ThreadPoolExecutor(2) as pool:
            assert sorted(pool.map(send, range(2))) == [201, 429]
        assert len(server.messages) == 1


def test_faults_come_at_the_configured_share():
    with TwilioStandin(faults=Faults(server_error=0.2, rate_limited=0.1, seed=5)) as server:
        client, codes = server.sdk_client(), []
        for _ in range(100):
            try:
                client.messages.create(to=TO, from_=SENDER, body="Hello")
            except TwilioRestException as err:
                codes.append(err.code)
        assert set(codes) == {20429, 20500, 20503}
        assert server.faults_injected["server_error"] == codes.count(20500) + codes.count(20503)
        assert server.faults_injected["rate_limited"] == codes.count(20429)
        assert abs(len(codes) / 100 - 0.3) < 0.1
        assert len(server.messages) == 100 - len(codes)  # a 429 or 5xx fault was never processed


def test_a_blind_retry_after_a_reset_sends_twice(twilio_standin: TwilioStandin, twilio: Client):
    twilio_standin.faults = Faults(reset_after_write=1.0)
    with pytest.raises(ConnectionError):
        twilio.messages.create(to=TO, from_=SENDER, body="Hello")
    assert len(twilio_standin.sent_to(TO)) == 1  # accepted before the connection dropped
    twilio_standin.faults = Faults()
    twilio.messages.create(to=TO, from_=SENDER, body="Hello")
    assert len(twilio_standin.sent_to(TO)) == 2


def test_timeout_fault_still_sends():
    # the client waits 0.25 s (time to connect on a loaded machine), the stand-in holds the request 1 s
    with TwilioStandin(faults=Faults(timeout=1.0, timeout_seconds=1.0)) as server:
        with pytest.raises(ReadTimeout):
            server.sdk_client(TwilioHttpClient(timeout=0.25)).messages.create(to=TO, from_=SENDER, body="Hello")
        server.wait_idle()
        assert len(server.sent_to(TO)) == 1


class Receiver(StandinServer):
    """A status-callback endpoint that keeps what it receives."""

    ROUTES = (("POST", r"/status", "status"),)

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Request] = []

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        self.received.append(request)
        return Reply(204)


def test_status_callbacks_are_signed(twilio_standin: TwilioStandin, twilio: Client):
    with Receiver() as receiver:
        url = f"{receiver.base_url}/status"
        sent = twilio.messages.create(to=TO, from_=SENDER, body="Hello", status_callback=url)
        assert twilio_standin.report_status(sent.sid, "undelivered", 30003) == 204
    (callback,) = receiver.received
    params = {k: v[0] for k, v in parse_qs(callback.body.decode()).items()}
    assert (params["MessageSid"], params["MessageStatus"], params["ErrorCode"]) == (sent.sid, "undelivered", "30003")
    validator = RequestValidator(twilio_standin.auth_token)
    assert validator.validate(url, params, callback.headers["X-Twilio-Signature"])
    assert not RequestValidator("another-token").validate(url, params, callback.headers["X-Twilio-Signature"])
