"""SendGrid Marketing Contacts: an audience is a contact list; members are contacts on it.

Upserts go out in requests of at most 30,000 contacts and 6,000,000 bytes of JSON, each an import
job; the engine hands over up to JOBS_IN_FLIGHT requests' worth of members at once, all their
requests are submitted, then their jobs polled together to a final status. A member is delivered
only when its job finished and the job's errors file does not list it. Contact ids are looked up
(100 emails per search) only when a removal or an erasure needs them; the engine keeps them in the
sync state. Removal takes contacts off the list (they are kept); erasure deletes them.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mercator.activation.destination import (
    DELIVERED,
    FAILED,
    REJECTED,
    ConfigError,
    Connection,
    Destination,
    Member,
    Outcome,
    Suppression,
)
from mercator.activation.sendgrid_client import SendGridClient, SendGridError, as_json, chunks, sized_batches
from mercator.gc_control import gc_paused

log = logging.getLogger(__name__)

MAX_CONTACTS, MAX_BODY_BYTES = 30_000, 6_000_000  # per upsert request
JOBS_IN_FLIGHT = 10  # upsert requests submitted before their jobs are polled together
IDS_PER_CALL = 100  # contact ids per removal or deletion URL
# Reserved contact fields sent by name when a member has them, with SendGrid's maximum lengths.
CONTACT_FIELDS = {"first_name": 50, "last_name": 50, "address_line_1": 100, "address_line_2": 100, "city": 60,
                  "state_province_region": 50, "postal_code": 60, "country": 50}
RESERVED_NAMES = {*CONTACT_FIELDS, "email", "phone_number", "phone_number_id", "external_id", "anonymous_id",
                  "alternate_emails", "unique_name", "whatsapp", "line", "facebook", "created_at", "updated_at",
                  "contact_id", "email_domains", "last_clicked", "last_emailed", "last_opened"}
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # worth a search (an invalid one fails the whole call)
FIELD_TYPES = ("Text", "Number")


@dataclass(frozen=True)
class SendGridOptions:
    """`list_name` defaults to the audience's name; `custom_fields` names member fields to send as
    custom fields, a list (all Text) or a mapping to Text or Number. Waits are in seconds."""

    list_name: str | None = None
    custom_fields: tuple[str, ...] | list[str] | dict[str, str] = ()
    poll_seconds: float = 1.0  # first pause between import job polls (then growing)
    job_timeout_seconds: float = 600.0  # longest wait for an import job to finish
    timeout_seconds: float = 30.0  # per request
    max_attempts: int = 6  # per request

    def __post_init__(self) -> None:
        fields = self.custom_fields
        object.__setattr__(self, "custom_fields", dict(fields) if isinstance(fields, dict)
                           else dict.fromkeys(fields, "Text"))
        for name, field_type in self.custom_fields.items():
            if not FIELD_NAME.fullmatch(str(name)) or name.lower() in RESERVED_NAMES:
                raise ConfigError(f"sendgrid: custom field {name!r} is reserved or not a valid name (a letter or _, "
                                  "then letters, digits and _)")
            if field_type not in FIELD_TYPES:
                raise ConfigError(f"sendgrid: custom field {name!r} has type {field_type!r}; known: {FIELD_TYPES}")
        if self.list_name is not None and not 1 <= len(self.list_name) <= 100:
            raise ConfigError("sendgrid: list_name must be 1 to 100 characters")
        if min(self.poll_seconds, self.job_timeout_seconds, self.timeout_seconds) <= 0 or self.max_attempts < 1:
            raise ConfigError("sendgrid: poll_seconds, job_timeout_seconds, timeout_seconds and max_attempts must "
                              "be positive")


class SendGridDestination(Destination):
    """Audience members as contacts on a SendGrid list; credentials from the Airflow connection."""

    kind = "sendgrid"
    config_class = SendGridOptions
    channels = ("email",)
    identifier = "email"
    delivers_messages = False
    finds_contacts_by_email = True  # removals and erasure hand it the members' addresses (sync.py)
    max_batch = MAX_CONTACTS * JOBS_IN_FLIGHT

    def __init__(self, config: SendGridOptions, connection: Connection | None = None) -> None:
        super().__init__(config, connection)
        self.client = SendGridClient.of_connection(self.kind, connection, config.timeout_seconds, config.max_attempts)
        self._lists: dict[str, str] = {}  # audience -> list id
        self._field_ids: dict[str, str] | None = None  # custom field name -> id

    # --- setup -------------------------------------------------------------------------------

    def validate_fields(self, available_fields: Iterable[str]) -> None:
        """ConfigError naming the fields (email, custom fields) the audience does not provide."""
        missing = sorted({self.identifier, *self.config.custom_fields} - set(available_fields))
        if missing:
            raise ConfigError(f"sendgrid: the audience lacks field(s) {missing} (the email or custom_fields)")

    def prepare(self, audience: str) -> None:
        """Find or create the list and the custom fields, once per destination object."""
        if audience not in self._lists:
            name = self.config.list_name or audience
            self._lists[audience] = self.client.find_or_create(lambda: self.client.find_list(name),
                                                               "marketing/lists", {"name": name})
        if self._field_ids is None:
            self._field_ids = {name: self._field_id(name, kind) for name, kind in self.config.custom_fields.items()}

    def _field_id(self, name: str, kind: str) -> str:
        return self.client.find_or_create(lambda: self._find_field(name, kind), "marketing/field_definitions",
                                          {"name": name, "field_type": kind})

    def _find_field(self, name: str, kind: str) -> str | None:
        defined = self.client.request("GET", "marketing/field_definitions").to_dict.get("custom_fields") or []
        for spec in defined:
            if spec["name"].lower() == name.lower():
                if spec.get("field_type") != kind:
                    raise ConfigError(f"sendgrid: custom field {name!r} exists as {spec.get('field_type')}, "
                                      f"configured as {kind}")
                return spec["id"]
        return None

    # --- membership --------------------------------------------------------------------------

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """Submit every request (at most 30,000 contacts and 6,000,000 bytes each), then poll all their
        jobs together; contact ids are looked up later, only when a removal or erasure needs them."""
        self.prepare(audience)
        list_id, outcomes, ready = self._lists[audience], {}, []  # outcomes by member index
        jobs: dict[str, list[tuple[int, str]]] = {}  # job id -> (member index, email) of its rows
        with gc_paused():
            for n, member in enumerate(members):
                contact, problem = self._contact(member)
                if problem:
                    outcomes[n] = Outcome(member.customer_key, REJECTED, problem)
                    continue
                ready.append((n, contact))
                if len(ready) == MAX_CONTACTS:
                    self._submit(list_id, ready, members, jobs, outcomes)
                    ready = []
            if ready:
                self._submit(list_id, ready, members, jobs, outcomes)
        for job_id, job in self.client.wait_for_jobs(list(jobs), self.config.poll_seconds,
                                                     self.config.job_timeout_seconds).items():
            problem = self._job_problem(job)
            errors, problem = self.client.row_errors(job) if not problem else ({}, problem)
            with gc_paused():
                for n, email in jobs[job_id]:
                    reason = problem or errors.get(email, "")
                    status = (FAILED if problem else REJECTED) if reason else DELIVERED
                    outcomes[n] = Outcome(members[n].customer_key, status, reason)
        log.info("sendgrid %s: %d members in %d upsert jobs", audience, len(members), len(jobs))
        return [outcomes[n] for n in range(len(members))]

    def _submit(self, list_id: str, ready: list[tuple[int, dict]], members: list[Member],
                jobs: dict[str, list[tuple[int, str]]], outcomes: dict[int, Outcome]) -> None:
        """PUT these contacts in one request, or split by size when their JSON passes 6,000,000 bytes
        (a contact too large on its own is rejected); each accepted request's job id with its rows."""
        body = as_json({"list_ids": [list_id], "contacts": [contact for _, contact in ready]})
        if len(body) <= MAX_BODY_BYTES:
            requests = [(ready, body)]
        else:
            overhead, sized = len(as_json({"list_ids": [list_id], "contacts": []})), []
            for n, contact in ready:
                size = len(as_json(contact))
                if overhead + size > MAX_BODY_BYTES:
                    outcomes[n] = Outcome(members[n].customer_key, REJECTED, "contact over 6,000,000 bytes")
                else:
                    sized.append((n, contact, size))
            requests = [(batch, {"list_ids": [list_id], "contacts": [contact for _, contact, _ in batch]})
                        for batch in sized_batches(sized, overhead, MAX_CONTACTS, MAX_BODY_BYTES)]
        for batch, body in requests:
            try:
                jobs[self.client.request("PUT", "marketing/contacts", body).to_dict["job_id"]] = [
                    (n, contact["email"]) for n, contact, *_ in batch]
            except SendGridError as error:
                status = REJECTED if error.status in (400, 413) else FAILED
                outcomes.update({n: Outcome(members[n].customer_key, status, str(error)) for n, *_ in batch})

    def _contact(self, member: Member) -> tuple[dict, str]:
        """The contact to send, or a reason it cannot be sent."""
        email = str(member.fields.get("email") or "").strip().lower()
        if not email or len(email) > 254:
            return {}, "no email" if not email else "email longer than 254 characters"
        contact: dict = {"email": email}
        for name, limit in CONTACT_FIELDS.items():
            value = member.fields.get(name)
            if value is not None and len(str(value)) > limit:
                return {}, f"{name} longer than {limit} characters"
            if value is not None:
                contact[name] = str(value)
        custom: dict = {}
        for name, kind in self.config.custom_fields.items():
            value = member.fields.get(name)
            if value is None:
                continue
            if kind == "Text":
                custom[self._field_ids[name]] = str(value)
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not math.isfinite(number):
                return {}, f"custom field {name} is not a number"
            custom[self._field_ids[name]] = int(number) if number.is_integer() else number
        return ({**contact, "custom_fields": custom} if custom else contact), ""

    def _job_problem(self, job: dict) -> str:
        """Why a job's rows count as failed; "" when it finished (completed or errored)."""
        status = job.get("status")
        if status in ("completed", "errored"):
            return ""
        if status == "pending":
            return f"job {job.get('id')} still pending after {self.config.job_timeout_seconds:g} s"
        return job.get("error") or f"job {job.get('id')} {status}"

    def _resolve(self, members: list[Member], search_all: bool) -> tuple[dict[int, list[str]], dict[int, Outcome]]:
        """Contact ids per member, from its remote_id or a search (100 emails per call, each email once)
        of its addresses (`email`, or `emails`: every address the warehouse knew it by); `search_all`:
        the addresses decide, the remote_id only when none is found. Outcomes for members without one."""
        addresses = {n: _addresses(m.fields) for n, m in enumerate(members)}
        wanted = [e for n, found in addresses.items() if search_all or not members[n].remote_id for e in found]
        found, failed = self.client.contact_ids(wanted)
        ids, outcomes = {}, {}
        for n, member in enumerate(members):
            hits = list(dict.fromkeys(found[e] for e in addresses[n] if e in found))
            known = [member.remote_id] if member.remote_id else []
            unresolved = any(e in failed for e in addresses[n]) and (search_all or not known)
            chosen = (hits or known) if search_all else (known or hits)
            if unresolved:
                outcomes[n] = Outcome(member.customer_key, FAILED, next(failed[e] for e in addresses[n] if e in failed))
            elif chosen:
                ids[n] = chosen
            elif addresses[n]:
                outcomes[n] = Outcome(member.customer_key, DELIVERED, "no such contact at SendGrid")
            else:
                outcomes[n] = Outcome(member.customer_key, REJECTED, "neither a contact id nor an email")
        return ids, outcomes

    def remove(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """Take contacts off the list (kept as contacts); one already gone counts as removed."""
        self.prepare(audience)
        ids, outcomes = self._resolve(members, search_all=False)
        answers: dict[int, list[tuple[str, str]]] = {}
        pairs = [(n, i) for n, found in ids.items() for i in found]
        for chunk in chunks(pairs, IDS_PER_CALL):
            for n, answer in self._off_list(self._lists[audience], chunk):
                answers.setdefault(n, []).append(answer)
        for n, found in ids.items():
            status, reason = _worst(answers[n])
            outcomes[n] = Outcome(members[n].customer_key, status, reason, found[0])
        return [outcomes[n] for n in range(len(members))]

    def _off_list(self, list_id: str, chunk: list[tuple[int, str]]) -> list[tuple[int, tuple[str, str]]]:
        """Remove a chunk of ids; a refused chunk is halved down to the id at fault (404: gone)."""
        try:
            self.client.request("DELETE", f"marketing/lists/{list_id}/contacts",
                                query={"contact_ids": ",".join(dict.fromkeys(i for _, i in chunk))})
            return [(n, (DELIVERED, "")) for n, _ in chunk]
        except SendGridError as error:
            if error.status in (400, 404) and len(chunk) > 1:
                half = len(chunk) // 2
                return self._off_list(list_id, chunk[:half]) + self._off_list(list_id, chunk[half:])
            outcome = (DELIVERED, "no such contact at SendGrid") if error.status == 404 else (
                REJECTED if error.status == 400 else FAILED, str(error))
            return [(n, outcome) for n, _ in chunk]

    def erase(self, members: list[Member]) -> list[Outcome]:
        """Delete the contacts (found by their addresses, else by remote_id) and wait for the deletion jobs."""
        ids, outcomes = self._resolve(members, search_all=True)
        answers: dict[int, list[tuple[str, str]]] = {}
        jobs = {}
        for chunk in chunks([(n, i) for n, found in ids.items() for i in found], IDS_PER_CALL):
            try:
                query = {"ids": ",".join(dict.fromkeys(i for _, i in chunk))}
                jobs[self.client.request("DELETE", "marketing/contacts", query=query).to_dict["job_id"]] = chunk
            except SendGridError as error:
                for n, _ in chunk:
                    answers.setdefault(n, []).append((REJECTED if error.status == 400 else FAILED, str(error)))
        for job_id, job in self.client.wait_for_jobs(list(jobs), self.config.poll_seconds,
                                                     self.config.job_timeout_seconds).items():
            problem = self._job_problem(job) or ("" if job["status"] == "completed" else f"job {job_id} errored")
            for n, _ in jobs[job_id]:
                answers.setdefault(n, []).append((FAILED if problem else DELIVERED, problem))
        for n, found in ids.items():
            status, reason = _worst(answers[n])
            outcomes[n] = Outcome(members[n].customer_key, status, reason, found[0])
        return [outcomes[n] for n in range(len(members))]

    # --- closed loop -------------------------------------------------------------------------

    def suppressions(self, since: str | None) -> list[Suppression]:
        """Global and group unsubscribes, bounces and spam reports created at or after `since`."""
        return self.client.suppressions(since)


def _addresses(fields: dict) -> list[str]:
    """A member's searchable addresses, normalised: `emails` (a list) or `email`."""
    given = fields.get("emails") or [fields.get("email")]
    return list(dict.fromkeys(e for e in (str(a or "").strip().lower() for a in given) if ADDRESS.fullmatch(e)))


def _worst(answers: list[tuple[str, str]]) -> tuple[str, str]:
    """One outcome from a member's several contact ids: failed before rejected before delivered."""
    return min(answers, key=lambda answer: (FAILED, REJECTED, DELIVERED).index(answer[0]))
