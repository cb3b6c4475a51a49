"""The SendGrid stand-in, driven by the real `sendgrid` SDK: documented limits, jobs, state, faults."""

from __future__ import annotations

import time
import urllib.request

import pytest
from python_http_client.exceptions import (
    BadRequestsError,
    HTTPError,
    NotFoundError,
    PayloadTooLargeError,
    TooManyRequestsError,
    UnauthorizedError,
)
from sendgrid import SendGridAPIClient

from tests.standins.sendgrid_server import API_KEY, MAX_CONTACTS, MAX_CUSTOM_FIELDS, SendGridStandin
from tests.standins.serve import StandinProcess
from tests.standins.standin import Faults


def make_list(sg: SendGridAPIClient, name: str = "vip") -> str:
    return sg.client.marketing.lists.post(request_body={"name": name}).to_dict["id"]


def upsert(sg: SendGridAPIClient, contacts: list[dict], list_ids: list[str] | None = None) -> str:
    response = sg.client.marketing.contacts.put(request_body={"list_ids": list_ids or [], "contacts": contacts})
    assert response.status_code == 202
    return response.to_dict["job_id"]


def poll(sg: SendGridAPIClient, job_id: str) -> dict:
    """Poll the job until its status is final."""
    for _ in range(10):
        job = sg.client.marketing.contacts.imports._(job_id).get().to_dict
        if job["status"] != "pending":
            return job
    raise AssertionError("job still pending")


def test_upsert_is_a_job_then_contacts_are_searchable(sendgrid_standin: SendGridStandin, sg: SendGridAPIClient):
    list_id = make_list(sg)
    field_id = sg.client.marketing.field_definitions.post(
        request_body={"name": "clv", "field_type": "Number"}).to_dict["id"]
    job_id = upsert(sg, [{"email": "Ann@Example.com", "first_name": "Ann", "custom_fields": {field_id: 120}},
                         {"email": "not-an-email"}], [list_id])

    with pytest.raises(NotFoundError):  # no contact before its job finished
        sg.client.marketing.contacts.search.emails.post(request_body={"emails": ["ann@example.com"]})
    first = sg.client.marketing.contacts.imports._(job_id).get().to_dict
    assert first["status"] == "pending"
    job = poll(sg, job_id)
    assert job["status"] == "errored"
    assert {k: job["results"][k] for k in ("requested_count", "created_count", "errored_count")} == {
        "requested_count": 2, "created_count": 1, "errored_count": 1}
    with urllib.request.urlopen(job["results"]["errors_url"]) as errors:
        assert errors.read().decode().splitlines() == ["email,error", "not-an-email,invalid email"]

    result = sg.client.marketing.contacts.search.emails.post(
        request_body={"emails": ["ANN@example.com", "bob@example.com"]}).to_dict["result"]
    assert result["bob@example.com"] == {"error": "contact not found"}
    assert result["ann@example.com"]["contact"]["list_ids"] == [list_id]
    assert result["ann@example.com"]["contact"]["custom_fields"] == {"clv": 120}

    ann = sendgrid_standin.contact("ann@example.com")
    assert (ann.email, ann.fields, ann.custom_fields) == ("ann@example.com", {"first_name": "Ann"}, {field_id: 120})
    assert sendgrid_standin.list_members(list_id) == {"ann@example.com"}
    assert sendgrid_standin.requests["import_status"] == 2
    assert sendgrid_standin.writes == {"create_list": 1, "create_field": 1, "upsert_contacts": 1}


def test_upsert_updates_in_place_and_keeps_omitted_fields(sendgrid_standin: SendGridStandin, sg: SendGridAPIClient):
    first, second = make_list(sg, "a"), make_list(sg, "b")
    poll(sg, upsert(sg, [{"email": "ann@example.com", "first_name": "Ann"}], [first]))
    job = poll(sg, upsert(sg, [{"email": "ANN@example.com", "city": "Oslo"}], [second]))
    assert (job["status"], job["results"]["updated_count"]) == ("completed", 1)
    ann = sendgrid_standin.contact("ann@example.com")
    assert (ann.fields, ann.list_ids) == ({"first_name": "Ann", "city": "Oslo"}, {first, second})
    assert len(sendgrid_standin.contacts) == 1


def test_upsert_limits_are_rejected_before_any_write(sendgrid_standin: SendGridStandin, sg: SendGridAPIClient):
    contacts = sg.client.marketing.contacts
    with pytest.raises(PayloadTooLargeError) as too_many:
        contacts.put(request_body={"contacts": [{"email": f"c{n}@example.com"} for n in range(MAX_CONTACTS + 1)]})
    assert too_many.value.status_code == 413
    assert "30000 contacts" in too_many.value.to_dict["errors"][0]["message"]
    with pytest.raises(PayloadTooLargeError):
        contacts.put(request_body={"contacts": [{"email": "a@example.com", "first_name": "x" * 6_000_000}]})
    for bad in ({"contacts": []}, {"contacts": [{"first_name": "no email"}]},
                {"contacts": [{"email": "a@example.com", "phone_number": "+15551230000"}]},
                {"contacts": [{"email": "a@example.com", "custom_fields": {"clv": 1}}]},
                {"list_ids": ["00000000-0000-4000-8000-000000000000"], "contacts": [{"email": "a@example.com"}]}):
        with pytest.raises(BadRequestsError):
            contacts.put(request_body=bad)
    assert (sendgrid_standin.jobs, sendgrid_standin.writes) == ({}, {})
    assert upsert(sg, [{"email": f"c{n}@example.com"} for n in range(MAX_CONTACTS)])


def test_job_failures(sg: SendGridAPIClient):
    assert poll(sg, upsert(sg, [{"email": "bad"}, {"email": "worse@"}]))["status"] == "failed"
    with SendGridStandin(failed_jobs=1.0) as failing:
        client = failing.sdk_client()
        job = poll(client, upsert(client, [{"email": "ann@example.com"}]))
        assert (job["status"], job["results"]["errored_count"], failing.contacts) == ("failed", 1, {})


def test_job_stays_pending_for_the_configured_time():
    with SendGridStandin(pending_polls=0, pending_seconds=0.4) as server:
        sg = server.sdk_client()
        job_id = upsert(sg, [{"email": "ann@example.com"}])
        assert sg.client.marketing.contacts.imports._(job_id).get().to_dict["status"] == "pending"
        time.sleep(0.45)
        assert sg.client.marketing.contacts.imports._(job_id).get().to_dict["status"] == "completed"


def test_search_takes_at_most_100_valid_emails(sg: SendGridAPIClient):
    search = sg.client.marketing.contacts.search.emails
    with pytest.raises(BadRequestsError) as too_many:
        search.post(request_body={"emails": [f"c{n}@example.com" for n in range(101)]})
    assert "at most 100" in too_many.value.to_dict["errors"][0]["message"]
    with pytest.raises(BadRequestsError):
        search.post(request_body={"emails": ["not-an-email"]})
    with pytest.raises(NotFoundError):
        search.post(request_body={"emails": [f"c{n}@example.com" for n in range(100)]})


def test_list_removal_takes_ids_and_deletion_is_a_job(sendgrid_standin: SendGridStandin, sg: SendGridAPIClient):
    list_id = make_list(sg)
    poll(sg, upsert(sg, [{"email": "ann@example.com"}, {"email": "bob@example.com"}], [list_id]))
    ann, bob = sendgrid_standin.contact("ann@example.com"), sendgrid_standin.contact("bob@example.com")
    members = sg.client.marketing.lists._(list_id).contacts
    with pytest.raises(BadRequestsError):
        members.delete(query_params={"contact_ids": "ann@example.com"})
    with pytest.raises(NotFoundError):
        members.delete(query_params={"contact_ids": "00000000-0000-4000-8000-000000000000"})
    assert members.delete(query_params={"contact_ids": ann.id}).status_code == 202
    assert sendgrid_standin.list_members(list_id) == {"bob@example.com"}
    assert sendgrid_standin.contact("ann@example.com") is ann  # removed from the list, kept

    contacts = sg.client.marketing.contacts
    for bad in ({}, {"ids": ann.id, "delete_all_contacts": "true"}, {"ids": "ann@example.com"},
                {"delete_all_contacts": "yes"}):
        with pytest.raises(BadRequestsError):
            contacts.delete(query_params=bad)
    job = poll(sg, contacts.delete(query_params={"ids": ann.id}).to_dict["job_id"])
    assert (job["job_type"], job["status"], job["results"]["deleted_count"]) == ("delete", "completed", 1)
    assert set(sendgrid_standin.contacts) == {"bob@example.com"}
    poll(sg, contacts.delete(query_params={"delete_all_contacts": "true"}).to_dict["job_id"])
    assert sendgrid_standin.contacts == {}
    assert bob.id not in {c.id for c in sendgrid_standin.contacts.values()}


def test_lists_page_and_names_are_checked(sg: SendGridAPIClient):
    for name in ("a", "b", "c"):
        make_list(sg, name)
    page = sg.client.marketing.lists.get(query_params={"page_size": 2}).to_dict
    assert [item["name"] for item in page["result"]] == ["a", "b"]
    assert page["_metadata"]["count"] == 3
    token = page["_metadata"]["next"].split("page_token=")[1]
    rest = sg.client.marketing.lists.get(query_params={"page_size": 2, "page_token": token}).to_dict
    assert ([item["name"] for item in rest["result"]], "next" in rest["_metadata"]) == (["c"], False)
    for bad in ({"page_size": 1001}, {"page_size": 0}):
        with pytest.raises(BadRequestsError):
            sg.client.marketing.lists.get(query_params=bad)
    for name in ("a", "", "x" * 101):
        with pytest.raises(BadRequestsError):
            sg.client.marketing.lists.post(request_body={"name": name})


def test_field_definition_rules(sendgrid_standin: SendGridStandin, sg: SendGridAPIClient):
    fields = sg.client.marketing.field_definitions
    assert fields.post(request_body={"name": "_Score", "field_type": "Number"}).to_dict["id"] == "e1_N"
    for body in ({"name": "first_name", "field_type": "Text"}, {"name": "_score", "field_type": "Text"},
                 {"name": "1st", "field_type": "Text"}, {"name": "has-dash", "field_type": "Text"},
                 {"name": "ok", "field_type": "Boolean"}):
        with pytest.raises(BadRequestsError):
            fields.post(request_body=body)
    listed = fields.get().to_dict
    assert [f["name"] for f in listed["custom_fields"]] == ["_Score"]
    assert "email" in {f["name"] for f in listed["reserved_fields"]}
    sendgrid_standin.fields.update({f"w{n}": {"id": f"w{n}", "name": f"f{n}", "field_type": "Text"}
                                    for n in range(MAX_CUSTOM_FIELDS - 1)})
    with pytest.raises(BadRequestsError) as full:
        fields.post(request_body={"name": "one_too_many", "field_type": "Text"})
    assert "500" in full.value.to_dict["errors"][0]["message"]


def test_suppressions_pull_by_time_and_groups(sendgrid_standin: SendGridStandin, sg: SendGridAPIClient):
    for created, email in ((100, "a@example.com"), (200, "b@example.com"), (300, "c@example.com")):
        sendgrid_standin.unsubscribe(email, created)
        sendgrid_standin.bounce(email, created)
        sendgrid_standin.spam_report(email, created)
    suppression = sg.client.suppression
    for kind in (suppression.unsubscribes, suppression.bounces, suppression.spam_reports):
        rows = kind.get(query_params={"start_time": 150}).to_dict
        assert [r["email"] for r in rows] == ["b@example.com", "c@example.com"]
    page = suppression.unsubscribes.get(query_params={"start_time": 0, "end_time": 200, "limit": 1, "offset": 1})
    assert [r["email"] for r in page.to_dict] == ["b@example.com"]
    with pytest.raises(BadRequestsError):
        suppression.unsubscribes.get(query_params={"limit": 501})

    sendgrid_standin.add_group(7)
    sendgrid_standin.add_group(8)
    sendgrid_standin.delete_group(8)
    groups = sg.client.asm.groups
    groups._(7).suppressions.post(request_body={"recipient_emails": ["d@example.com", "e@example.com"]})
    groups._(8).suppressions.post(request_body={"recipient_emails": ["f@example.com"]})
    assert groups._(7).suppressions.get().to_dict == ["d@example.com", "e@example.com"]
    assert groups._(8).suppressions.get().to_dict == []
    assert sendgrid_standin.unsubscribes[-1]["email"] == "f@example.com"  # a deleted group: the global list
    sendgrid_standin.unsubscribe("d@example.com")
    assert groups._(7).suppressions._("d@example.com").delete().status_code == 204  # group_resubscribe
    assert groups._(7).suppressions.get().to_dict == ["e@example.com"]
    assert "d@example.com" in {r["email"] for r in sendgrid_standin.unsubscribes}  # global stays


def test_wrong_or_missing_key_is_401(sendgrid_standin: SendGridStandin):
    for key in ("SG.wrong-key", None):
        client = SendGridAPIClient(key, host=sendgrid_standin.base_url)
        with pytest.raises(UnauthorizedError) as denied:
            client.client.marketing.lists.get()
        assert denied.value.status_code == 401
    assert sendgrid_standin.writes == {}


def test_rate_limit_window_and_headers():
    with SendGridStandin(rate_limits={"search_emails": (2, 0.5)}) as server:
        sg = server.sdk_client()
        search = sg.client.marketing.contacts.search.emails
        remaining = []
        for _ in range(2):
            with pytest.raises(NotFoundError) as answered:
                search.post(request_body={"emails": ["ann@example.com"]})
            remaining.append(answered.value.headers["X-RateLimit-Remaining"])
        assert (answered.value.headers["X-RateLimit-Limit"], remaining) == ("2", ["1", "0"])
        with pytest.raises(TooManyRequestsError) as limited:
            search.post(request_body={"emails": ["ann@example.com"]})
        assert limited.value.to_dict == {"errors": [{"field": None, "message": "too many requests"}]}
        headers = limited.value.headers
        assert headers["X-RateLimit-Remaining"] == "0" and "Retry-After" not in headers
        assert time.time() <= int(headers["X-RateLimit-Reset"]) <= time.time() + 1.5
        assert sg.client.marketing.lists.get().headers["X-RateLimit-Remaining"] == "599"  # per endpoint
        time.sleep(0.55)
        with pytest.raises(NotFoundError):
            search.post(request_body={"emails": ["ann@example.com"]})


def outcomes(server: SendGridStandin, calls: int) -> list[int]:
    """Status of `calls` field listings (0 for a dropped connection)."""
    sg, seen = server.sdk_client(), []
    for _ in range(calls):
        try:
            seen.append(sg.client.marketing.field_definitions.get().status_code)
        except HTTPError as err:
            seen.append(err.status_code)
    return seen


def test_faults_come_at_the_configured_share_and_are_seeded():
    faults = Faults(rate_limited=0.1, server_error=0.2, seed=11)
    with SendGridStandin(faults=faults) as server:
        seen = outcomes(server, 200)
        errors = seen.count(500) + seen.count(503)
        assert dict(server.faults_injected) == {"rate_limited": seen.count(429), "server_error": errors}
        assert seen.count(500) and seen.count(503)
        assert abs(seen.count(429) / 200 - 0.1) < 0.06 and abs(errors / 200 - 0.2) < 0.07
    with SendGridStandin(faults=faults) as again:
        assert outcomes(again, 200) == seen


def test_reset_after_write_applies_then_drops_the_answer(sendgrid_standin: SendGridStandin):
    sendgrid_standin.faults = Faults(reset_after_write=1.0)
    sg = sendgrid_standin.sdk_client()
    with pytest.raises(OSError):
        upsert(sg, [{"email": "ann@example.com"}])
    assert (sendgrid_standin.writes["upsert_contacts"], len(sendgrid_standin.jobs)) == (1, 1)
    assert sendgrid_standin.log[-1].status is None
    sendgrid_standin.faults = Faults()
    upsert(sg, [{"email": "ann@example.com"}])  # the retry: a second job, the same contact
    sendgrid_standin.finish_jobs()
    assert (len(sendgrid_standin.jobs), list(sendgrid_standin.contacts)) == (2, ["ann@example.com"])


def test_timeout_fault_applies_the_write_after_the_client_gave_up():
    with SendGridStandin(faults=Faults(timeout=1.0, timeout_seconds=1.0)) as server:
        with pytest.raises(OSError):  # the client gives up after 0.25 s, the stand-in holds it 1 s
            server.sdk_client().client.marketing.lists.post(request_body={"name": "vip"}, timeout=0.25)
        server.wait_idle()
        assert list(server.lists.values()) == ["vip"]


def test_stopping_wakes_a_held_request():
    started = time.monotonic()
    with SendGridStandin(faults=Faults(timeout=1.0, timeout_seconds=30)) as server:
        with pytest.raises(OSError):
            server.sdk_client().client.marketing.lists.get(timeout=0.05)
    assert time.monotonic() - started < 2
    assert server.lists == {}


def test_the_standin_serves_from_a_process_of_its_own_and_reports_its_counts():
    with StandinProcess("sendgrid", rate_limits={"get_lists": (5, 60.0)}) as standin:
        response = SendGridAPIClient(API_KEY, host=standin.base_url).client.marketing.lists.get()
        stats = standin.stats()
    assert response.status_code == 200 and response.headers["X-RateLimit-Limit"] == "5"
    assert stats["requests"] == {"get_lists": 1} and stats["handling_seconds"]["get_lists"] > 0
    assert stats["peak_mb"] > 10
