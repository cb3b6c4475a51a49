"""The stand-in's Mail Send, driven by the real `sendgrid` SDK: limits, SendGrid's error shapes, records, faults."""

from __future__ import annotations

import time

import pytest
from python_http_client.exceptions import (
    BadRequestsError,
    InternalServerError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
)
from sendgrid import SendGridAPIClient

from tests.standins.mail_send import MAX_MAIL_BYTES, SentMessage
from tests.standins.sendgrid_server import SendGridStandin
from tests.standins.standin import Faults


def mail(template_id: str, *recipients: str, **extra) -> dict:
    personalizations = [
        {
            "to": [{"email": r}],
            "dynamic_template_data": {"name": r.split("@")[0]},
            "custom_args": {"campaign": "winback", "mercator_customer": r},
        }
        for r in recipients
    ]
    return {
        "from": {"email": "news@shop.example", "name": "Shop"},
        "template_id": template_id,
        "personalizations": personalizations,
        **extra,
    }


def refusal(sg: SendGridAPIClient, body: dict) -> list[dict]:
    """The errors of a request SendGrid answers 400."""
    with pytest.raises(BadRequestsError) as refused:
        sg.client.mail.send.post(request_body=body)
    return refused.value.to_dict["errors"]


def test_an_accepted_send_answers_202_with_a_message_id_and_records_each_personalization(sendgrid_standin, sg):
    template = sendgrid_standin.add_template()
    response = sg.client.mail.send.post(
        request_body=mail(template, "ann@example.com", "bob@example.com", categories=["winback"], asm={"group_id": 7})
    )
    message_id = response.headers["X-Message-Id"]
    assert (response.status_code, response.body, len(message_id)) == (202, b"", 22)
    assert sendgrid_standin.received("bob@example.com") == [
        SentMessage(
            message_id,
            ("bob@example.com",),
            template,
            "news@shop.example",
            {"name": "bob"},
            {"campaign": "winback", "mercator_customer": "bob@example.com"},
            ("winback",),
            {"group_id": 7},
        )
    ]
    assert len(sendgrid_standin.messages) == 2 and sendgrid_standin.writes == {"mail_send": 1}

    sandboxed = sg.client.mail.send.post(
        request_body=mail(template, "cy@example.com", mail_settings={"sandbox_mode": {"enable": True}})
    )
    assert sandboxed.status_code == 200 and "X-Message-Id" not in sandboxed.headers
    assert len(sendgrid_standin.messages) == 2  # validated, not sent


def test_limits_and_required_fields_are_400s_shaped_like_sendgrids(sendgrid_standin, sg):
    template = sendgrid_standin.add_template()
    too_many = refusal(sg, mail(template, *(f"p{n}@example.com" for n in range(1_001))))
    assert too_many[0]["field"] == "personalizations" and "You have provided 1001" in too_many[0]["message"]
    crowded = mail(template, *(f"p{n}@example.com" for n in range(600)))
    for personalization in crowded["personalizations"]:
        personalization["to"].append({"email": "copy-" + personalization["to"][0]["email"]})
    assert "1000 total recipients" in refusal(sg, crowded)[0]["message"]
    bad = mail(template, "ann@example.com", "not-an-email", "cy@example.com")
    bad["personalizations"][0]["custom_args"]["score"] = 7
    bad["personalizations"][2]["custom_args"]["note"] = "x" * 10_000
    bad["personalizations"].append({"to": []})
    assert [(e["field"], e["message"]) for e in refusal(sg, bad)] == [
        ("personalizations.0.custom_args.score", "Invalid type. Expected: string, given: int."),
        ("personalizations.1.to.0.email", "Does not contain a valid address."),
        ("personalizations.2.custom_args", "The custom_args of a personalization may not exceed 10000 bytes."),
        (
            "personalizations.3.to",
            "The to array is required for all personalization objects, and must have at "
            "least one email object with a valid email address.",
        ),
    ]
    missing = refusal(
        sg, {"personalizations": [{"to": [{"email": "ann@example.com"}]}], "categories": "x", "asm": {"group_id": "7"}}
    )
    assert [e["field"] for e in missing] == ["from.email", "template_id", "categories", "asm.group_id"]
    assert all(e["help"].startswith("http://sendgrid.com/docs/") for e in missing)
    unknown = refusal(sg, mail("d-" + "0" * 32, "ann@example.com"))
    assert unknown[0]["field"] == "template_id"
    with pytest.raises(PayloadTooLargeError):
        big = mail(template, "ann@example.com")
        big["personalizations"][0]["dynamic_template_data"]["note"] = "x" * MAX_MAIL_BYTES
        sg.client.mail.send.post(request_body=big)
    assert sendgrid_standin.messages == [] and sendgrid_standin.writes == {}


def test_errors_can_leave_the_field_out():
    with SendGridStandin(name_error_fields=False) as server:
        errors = refusal(server.sdk_client(), mail(server.add_template(), "not-an-email"))
    assert errors == [
        {
            "message": "Does not contain a valid address.",
            "field": None,
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.",
        }
    ]


def test_a_wrong_key_is_401_and_sends_nothing(sendgrid_standin):
    client = SendGridAPIClient("SG.wrong-key", host=sendgrid_standin.base_url)
    with pytest.raises(UnauthorizedError):
        client.client.mail.send.post(request_body=mail(sendgrid_standin.add_template(), "ann@example.com"))
    assert sendgrid_standin.messages == []


def test_faults_apply_to_mail_send():
    for kind, error in (
        ("rate_limited", TooManyRequestsError),
        ("server_error", (InternalServerError, ServiceUnavailableError)),
    ):
        with SendGridStandin(faults=Faults(**{kind: 1.0})) as server:
            with pytest.raises(error) as refused:
                server.sdk_client().client.mail.send.post(request_body=mail(server.add_template(), "a@example.com"))
            assert server.messages == [] and server.faults_injected == {kind: 1}
        if kind == "rate_limited":
            assert int(refused.value.headers["X-RateLimit-Reset"]) >= time.time()
    with SendGridStandin(faults=Faults(timeout=1.0, timeout_seconds=0.3)) as server:
        with pytest.raises(OSError):  # the client gives up first; the stand-in then sends the message
            server.sdk_client().client.mail.send.post(
                request_body=mail(server.add_template(), "a@example.com"), timeout=0.05
            )
        server.wait_idle()
        assert [m.to for m in server.messages] == [("a@example.com",)]
