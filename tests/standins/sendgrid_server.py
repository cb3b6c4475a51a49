"""SendGrid v3 stand-in for tests: Marketing Contacts (documented limits, asynchronous jobs), Mail Send, faults.

    with SendGridStandin(faults=Faults(server_error=0.2, seed=7)) as sg:
        client = sg.sdk_client()  # SendGridAPIClient(sg.api_key, host=sg.base_url)

Upserts and deletions are jobs: a job answers `pending` to its first `pending_polls` status polls
and for `pending_seconds`, then is applied (in the order jobs were created) and answers
`completed`, `errored` (some rows rejected, listed at `results.errors_url`) or `failed` (every
row rejected, or a `failed_jobs` share of jobs drawn from the fault RNG). Contacts, their ids and
list memberships exist only once their job is applied. Every routed response carries the
X-RateLimit headers of a fixed window per endpoint (`rate_limits`: endpoint -> (limit, seconds)).

Mail Send (`POST /v3/mail/send`, checked in tests.standins.mail_send) takes dynamic templates
registered with `add_template`, answers 202 with an `X-Message-Id` (200 and nothing sent in sandbox
mode) and records one `SentMessage` per personalization in `messages`; `name_error_fields=False`
leaves the `field` out of its 400 errors, as some SendGrid answers do.

State for tests: `contacts` (lower-cased email -> Contact), `lists`, `fields`, `jobs`, `templates`,
`messages`, the suppression lists and the counters of `StandinServer` (`requests`, `writes`,
`faults_injected`).
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sendgrid import SendGridAPIClient

from tests.standins import mail_send
from tests.standins.mail_send import MAX_MAIL_BYTES, SentMessage
from tests.standins.standin import Faults, Reply, Request, StandinServer

API_KEY = "SG.fake-standin-key"
MAX_CONTACTS = 30_000
MAX_BODY_BYTES = 6_000_000
MAX_SEARCH_EMAILS = 100
MAX_CUSTOM_FIELDS = 500
MAX_LISTS_PER_CONTACT = 250
MAX_LIST_PAGE_SIZE = 1000
MAX_SUPPRESSION_PAGE = 500
DEFAULT_SUPPRESSION_PAGE = 50  # unpublished: a small page, so a client that does not page is caught
DEFAULT_RATE_LIMIT = (600, 60.0)  # unpublished; clients must pace on the headers
CONTACT_FIELDS = ("address_line_1", "address_line_2", "alternate_emails", "anonymous_id", "city", "country",
                  "external_id", "first_name", "last_name", "phone_number_id", "postal_code",
                  "state_province_region")
RESERVED_FIELDS = (*CONTACT_FIELDS, "automation_id", "contact_id", "created_at", "email", "email_domains",
                   "facebook", "last_clicked", "last_emailed", "last_opened", "line", "phone_number",
                   "singlesend_id", "unique_name", "updated_at", "whatsapp")
STORED_FIELDS = frozenset(CONTACT_FIELDS)
CONTACT_KEYS = STORED_FIELDS | {"email", "custom_fields"}  # what an upserted contact may hold
FIELD_TYPES = {"Text": "T", "Number": "N", "Date": "D"}
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _error(status: int, message: str, field_name: str | None = None) -> Reply:
    return Reply.json(status, {"errors": [{"field": field_name, "message": message}]})


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Contact:
    """A stored contact: reserved fields by name, custom fields by field id."""

    id: str
    email: str
    fields: dict[str, object]
    custom_fields: dict[str, object]
    list_ids: set[str]
    created_at: str
    updated_at: str


@dataclass
class Job:
    """An upsert or delete job; `errors` holds (email, reason) per rejected row."""

    id: str
    job_type: str
    payload: dict
    fail: bool
    created: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=_now_iso)
    status: str = "pending"
    polls: int = 0
    results: dict = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    finished_at: str | None = None


class SendGridStandin(StandinServer):
    """The Marketing Contacts endpoints of activation-apis.md, checked like the documented API."""

    ROUTES = (
        ("PUT", r"/v3/marketing/contacts", "upsert_contacts"),
        ("DELETE", r"/v3/marketing/contacts", "delete_contacts"),
        ("GET", r"/v3/marketing/contacts/imports/(?P<job_id>[^/]+)", "import_status"),
        ("POST", r"/v3/marketing/contacts/search/emails", "search_emails"),
        ("GET", r"/v3/marketing/lists", "get_lists"),
        ("POST", r"/v3/marketing/lists", "create_list"),
        ("DELETE", r"/v3/marketing/lists/(?P<list_id>[^/]+)/contacts", "remove_list_contacts"),
        ("GET", r"/v3/marketing/field_definitions", "get_fields"),
        ("POST", r"/v3/marketing/field_definitions", "create_field"),
        ("GET", r"/v3/suppression/unsubscribes", "unsubscribes"),
        ("GET", r"/v3/suppression/bounces", "bounces"),
        ("GET", r"/v3/suppression/spam_reports", "spam_reports"),
        ("GET", r"/v3/asm/suppressions", "all_group_suppressions"),
        ("GET", r"/v3/asm/groups/(?P<group_id>\d+)/suppressions", "group_suppressions"),
        ("POST", r"/v3/asm/groups/(?P<group_id>\d+)/suppressions", "add_group_suppressions"),
        ("DELETE", r"/v3/asm/groups/(?P<group_id>\d+)/suppressions/(?P<email>[^/]+)", "remove_group_suppression"),
        ("POST", r"/v3/mail/send", "mail_send"),
        ("GET", r"/_standin/imports/(?P<job_id>[^/]+)/errors\.csv", "import_errors"),
    )

    def __init__(self, api_key: str = API_KEY, faults: Faults | None = None, pending_polls: int = 1,
                 pending_seconds: float = 0.0, failed_jobs: float = 0.0,
                 rate_limits: dict[str, tuple[int, float]] | None = None, name_error_fields: bool = True) -> None:
        super().__init__(faults)
        self.api_key = api_key
        self.pending_polls = pending_polls
        self.pending_seconds = pending_seconds
        self.failed_jobs = failed_jobs
        self.rate_limits = rate_limits or {}
        self.contacts: dict[str, Contact] = {}
        self.lists: dict[str, str] = {}  # id -> name
        self.fields: dict[str, dict[str, str]] = {}  # id -> {"id", "name", "field_type"}
        self.jobs: dict[str, Job] = {}
        self.unsubscribes: list[dict] = []  # {"created", "email"}
        self.bounces: list[dict] = []  # {"created", "email", "reason", "status"}
        self.spam_reports: list[dict] = []  # {"created", "email", "ip"}
        self.groups: dict[int, dict[str, int]] = {}  # group id -> {email: created}
        self.deleted_groups: set[int] = set()
        self.templates: set[str] = set()
        self.messages: list[SentMessage] = []
        self.name_error_fields = name_error_fields
        self._ids = random.Random(self.faults.seed + 1)
        self._windows: dict[str, tuple[float, int]] = {}

    # --- helpers for tests -------------------------------------------------------------------

    def sdk_client(self) -> SendGridAPIClient:
        """The real SDK pointed at this stand-in."""
        return SendGridAPIClient(self.api_key, host=self.base_url)

    def contact(self, email: str) -> Contact | None:
        return self.contacts.get(email.lower())

    def list_members(self, list_id: str) -> set[str]:
        """Emails of the contacts on a list."""
        return {c.email for c in self.contacts.values() if list_id in c.list_ids}

    def finish_jobs(self) -> None:
        """Apply every pending job now."""
        with self.lock:
            self._settle(force=True)

    def add_group(self, group_id: int) -> None:
        self.groups.setdefault(group_id, {})

    def delete_group(self, group_id: int) -> None:
        self.deleted_groups.add(group_id)

    def add_template(self) -> str:
        """Register a dynamic template; its id (`d-` and 32 hex digits)."""
        template_id = f"d-{self._ids.getrandbits(128):032x}"
        self.templates.add(template_id)
        return template_id

    def received(self, email: str) -> list[SentMessage]:
        """The messages sent to this address."""
        return [m for m in self.messages if email in m.to]

    def unsubscribe(self, email: str, created: int | None = None) -> None:
        """A global unsubscribe, as if the recipient had clicked it."""
        self.unsubscribes.append({"created": created or int(time.time()), "email": email.lower()})

    def group_unsubscribe(self, group_id: int, email: str, created: int | None = None) -> None:
        self.groups.setdefault(group_id, {})[email.lower()] = created or int(time.time())

    def bounce(self, email: str, created: int | None = None, reason: str = "550 5.1.1 unknown user") -> None:
        self.bounces.append({"created": created or int(time.time()), "email": email.lower(), "reason": reason,
                             "status": "5.1.1"})

    def spam_report(self, email: str, created: int | None = None) -> None:
        self.spam_reports.append({"created": created or int(time.time()), "email": email.lower(),
                                  "ip": "192.0.2.1"})

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        with self.lock:
            if endpoint == "import_errors":  # a download link: no key, no rate limit
                return self._import_errors(**params)
            headers, allowed = self._window(endpoint, consume=True)
            if not allowed:
                reply = _error(429, "too many requests")
            elif request.headers.get("Authorization") != f"Bearer {self.api_key}":
                reply = _error(401, "authorization required" if "Authorization" not in request.headers
                               else "The provided authorization grant is invalid, expired, or revoked")
            else:
                self._settle()
                reply = getattr(self, f"_{endpoint}")(request, **params)
            return Reply(reply.status, reply.body, {**reply.headers, **headers})

    def fault_reply(self, endpoint: str, status: int) -> Reply:
        with self.lock:
            headers, _ = self._window(endpoint, consume=False)
        if status == 429:
            headers["X-RateLimit-Remaining"] = "0"
        reply = _error(status, {429: "too many requests", 500: "internal server error",
                                503: "service unavailable"}[status])
        return Reply(reply.status, reply.body, {**reply.headers, **headers})

    def _window(self, endpoint: str, consume: bool) -> tuple[dict[str, str], bool]:
        limit, seconds = self.rate_limits.get(endpoint, DEFAULT_RATE_LIMIT)
        now = time.time()
        start, used = self._windows.get(endpoint, (now, 0))
        if now >= start + seconds:
            start, used = now, 0
        allowed = used < limit
        if consume and allowed:
            used += 1
        self._windows[endpoint] = (start, used)
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - used),
                "X-RateLimit-Reset": str(math.ceil(start + seconds))}, allowed

    def _new_id(self) -> str:
        """A random version-4 UUID (what uuid.UUID(int=..., version=4) gives, formatted faster)."""
        bits = self._ids.getrandbits(128) & ~(0xC000 << 48 | 0xF000 << 64) | 0x8000 << 48 | 0x4000 << 64
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def _new_job(self, job_type: str, payload: dict) -> Reply:
        job = Job(self._new_id(), job_type, payload, fail=self._fault_rng.random() < self.failed_jobs)
        self.jobs[job.id] = job
        return Reply.json(202, {"job_id": job.id})

    # --- contacts and jobs -------------------------------------------------------------------

    def _upsert_contacts(self, request: Request) -> Reply:
        if len(request.body) > MAX_BODY_BYTES:
            return _error(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
        try:
            body = request.json()
        except ValueError:
            return _error(400, "invalid JSON")
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(contacts, list) or not contacts:
            return _error(400, "contacts must be a non-empty array", "contacts")
        if len(contacts) > MAX_CONTACTS:
            return _error(413, f"at most {MAX_CONTACTS} contacts per request", "contacts")
        list_ids = body.get("list_ids") or []
        unknown_lists = [i for i in list_ids if i not in self.lists]
        if unknown_lists:
            return _error(400, f"list ids do not exist: {unknown_lists}", "list_ids")
        field_ids = set(self.fields)
        for n, contact in enumerate(contacts):
            problem = self._contact_problem(contact, field_ids)
            if problem:
                return _error(400, problem, f"contacts[{n}]")
        self.writes["upsert_contacts"] += 1
        return self._new_job("upsert", {"list_ids": list_ids, "contacts": contacts})

    @staticmethod
    def _contact_problem(contact: object, field_ids: set[str]) -> str | None:
        if not isinstance(contact, dict) or not isinstance(contact.get("email"), str):
            return "each contact needs an email (the stand-in keys contacts by email)"
        unknown = contact.keys() - CONTACT_KEYS
        if unknown:
            return f"unknown contact fields: {sorted(unknown)}"
        custom = contact.get("custom_fields") or {}
        if not isinstance(custom, dict):
            return "custom_fields must be an object keyed by field id"
        undefined = custom.keys() - field_ids
        if undefined:
            return f"custom fields must be created first and keyed by id: {sorted(undefined)}"
        return None

    def _delete_contacts(self, request: Request) -> Reply:
        ids, delete_all = request.arg("ids"), request.arg("delete_all_contacts")
        if (ids is None) == (delete_all is None):
            return _error(400, "set either ids or delete_all_contacts", "ids")
        if delete_all is not None and delete_all != "true":
            return _error(400, 'delete_all_contacts must be "true"', "delete_all_contacts")
        id_list = [i for i in (ids or "").split(",") if i]
        if ids is not None and (not id_list or not all(UUID.fullmatch(i) for i in id_list)):
            return _error(400, "ids must be a comma-separated list of contact ids", "ids")
        self.writes["delete_contacts"] += 1
        return self._new_job("delete", {"ids": id_list, "all": delete_all == "true"})

    def _import_status(self, request: Request, job_id: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "job not found", "id")
        reply = {"id": job.id, "status": job.status, "job_type": job.job_type, "started_at": job.started_at,
                 "results": job.results or {"requested_count": self._requested(job)}}
        if job.finished_at:
            reply["finished_at"] = job.finished_at
        job.polls += job.status == "pending"
        return Reply.json(200, reply)

    def _import_errors(self, job_id: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is None or not job.errors:
            return Reply(404)
        out = io.StringIO()
        csv.writer(out).writerows([("email", "error"), *job.errors])
        return Reply(200, out.getvalue().encode(), {"Content-Type": "text/csv"})

    @staticmethod
    def _requested(job: Job) -> int:
        return len(job.payload.get("contacts") or job.payload.get("ids") or [])

    def _settle(self, force: bool = False) -> None:
        now = time.monotonic()
        for job in self.jobs.values():
            due = job.polls >= self.pending_polls and now - job.created >= self.pending_seconds
            if job.status == "pending" and (due or force):
                self._apply(job)

    def _apply(self, job: Job) -> None:
        requested = self._requested(job)
        counts = {"requested_count": requested, "created_count": 0, "updated_count": 0, "deleted_count": 0}
        if job.fail:
            job.errors = [(str(c.get("email", "")), "job failed") for c in job.payload.get("contacts", [])]
        elif job.job_type == "upsert":
            now = _now_iso()  # once per job: formatting it per row made large jobs slow
            list_ids = set(job.payload["list_ids"])
            for contact in job.payload["contacts"]:
                outcome = self._upsert(contact, list_ids, now)
                if outcome in counts:
                    counts[outcome] += 1
                else:
                    job.errors.append((contact["email"], outcome))
        else:
            doomed = [e for e, c in self.contacts.items() if job.payload["all"] or c.id in job.payload["ids"]]
            for email in doomed:
                del self.contacts[email]
            counts["deleted_count"] = len(doomed)
        errored = requested if job.fail else len(job.errors)
        job.results = {**counts, "errored_count": errored}
        if job.errors:
            job.results["errors_url"] = f"{self.base_url}/_standin/imports/{job.id}/errors.csv"
        job.status = "completed" if not errored else "failed" if errored == requested else "errored"
        job.finished_at = _now_iso()

    def _upsert(self, row: dict, list_ids: set[str], now: str) -> str:
        """Apply one row: 'created_count', 'updated_count' or the reason it was rejected."""
        email = row["email"].lower()
        if len(email) > 254 or not EMAIL.fullmatch(email):
            return "invalid email"
        contact = self.contacts.get(email)
        if len(contact.list_ids | list_ids if contact else list_ids) > MAX_LISTS_PER_CONTACT:
            return f"a contact can be on at most {MAX_LISTS_PER_CONTACT} lists"
        outcome = "updated_count"
        if contact is None:
            contact = Contact(self._new_id(), email, {}, {}, set(), now, "")
            self.contacts[email] = contact
            outcome = "created_count"
        contact.fields.update({k: v for k, v in row.items() if k in STORED_FIELDS})
        contact.custom_fields.update(row.get("custom_fields") or {})
        contact.list_ids |= list_ids
        contact.updated_at = now
        return outcome

    def _search_emails(self, request: Request) -> Reply:
        try:
            emails = request.json().get("emails")
        except (ValueError, AttributeError):
            return _error(400, "invalid JSON")
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            return _error(400, "emails must be an array of strings", "emails")
        if len(emails) > MAX_SEARCH_EMAILS:
            return _error(400, f"at most {MAX_SEARCH_EMAILS} emails per request", "emails")
        emails = [e.lower() for e in emails if e]
        if not all(EMAIL.fullmatch(e) for e in emails):
            return _error(400, "invalid email address", "emails")
        found = {e: self.contacts[e] for e in emails if e in self.contacts}
        if not found:
            return _error(404, "no contacts found")
        return Reply.json(200, {"result": {e: {"contact": self._contact_json(found[e])} if e in found
                                               else {"error": "contact not found"} for e in emails}})

    def _contact_json(self, contact: Contact) -> dict:
        names = {fid: spec["name"] for fid, spec in self.fields.items()}
        return {"id": contact.id, "email": contact.email, "alternate_emails": [], **contact.fields,
                "list_ids": sorted(contact.list_ids), "segment_ids": [],
                "custom_fields": {names[fid]: v for fid, v in contact.custom_fields.items()},
                "created_at": contact.created_at, "updated_at": contact.updated_at,
                "_metadata": {"self": f"{self.base_url}/v3/marketing/contacts/{contact.id}"}}

    # --- mail send ----------------------------------------------------------------------------

    def _mail_send(self, request: Request) -> Reply:
        if len(request.body) > MAX_MAIL_BYTES:
            return _error(413, f"The message may not exceed {MAX_MAIL_BYTES} bytes.")
        try:
            body = request.json()
        except ValueError:
            body = None
        found = mail_send.problems(body, self.templates)
        if found:
            named = found if self.name_error_fields else [(message, None) for message, _ in found]
            return Reply.json(400, mail_send.error_body(named))
        if mail_send.sandboxed(body):
            return Reply(200)
        message_id = f"{self._ids.getrandbits(128):032x}"[:22]
        self.messages += mail_send.sent(body, message_id)
        self.writes["mail_send"] += 1
        return Reply(202, b"", {"X-Message-Id": message_id})

    # --- lists and fields --------------------------------------------------------------------

    def _get_lists(self, request: Request) -> Reply:
        try:
            size = int(request.arg("page_size") or 100)
            offset = int((request.arg("page_token") or "p0").removeprefix("p"))
        except ValueError:
            return _error(400, "page_size and page_token must come from the API", "page_size")
        if not 1 <= size <= MAX_LIST_PAGE_SIZE:
            return _error(400, f"page_size must be between 1 and {MAX_LIST_PAGE_SIZE}", "page_size")
        ids = list(self.lists)
        page = [self._list_json(i) for i in ids[offset:offset + size]]
        metadata = {"self": f"{self.base_url}/v3/marketing/lists?page_size={size}&page_token=p{offset}",
                    "count": len(ids)}
        if offset + size < len(ids):
            metadata["next"] = f"{self.base_url}/v3/marketing/lists?page_size={size}&page_token=p{offset + size}"
        return Reply.json(200, {"result": page, "_metadata": metadata})

    def _list_json(self, list_id: str) -> dict:
        members = sum(list_id in c.list_ids for c in self.contacts.values())  # counted, no set of emails built
        return {"id": list_id, "name": self.lists[list_id], "contact_count": members,
                "_metadata": {"self": f"{self.base_url}/v3/marketing/lists/{list_id}"}}

    def _create_list(self, request: Request) -> Reply:
        try:
            name = request.json().get("name")
        except (ValueError, AttributeError):
            return _error(400, "invalid JSON")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return _error(400, "name must be 1 to 100 characters", "name")
        if name in self.lists.values():
            return _error(400, "a list with this name already exists", "name")
        list_id = self._new_id()
        self.lists[list_id] = name
        self.writes["create_list"] += 1
        return Reply.json(201, self._list_json(list_id))

    def _remove_list_contacts(self, request: Request, list_id: str) -> Reply:
        if list_id not in self.lists:
            return _error(404, "list not found", "id")
        ids = [i for i in (request.arg("contact_ids") or "").split(",") if i]
        if not ids or not all(UUID.fullmatch(i) for i in ids):
            return _error(400, "contact_ids must be a comma-separated list of contact ids", "contact_ids")
        by_id = {c.id: c for c in self.contacts.values()}
        if not set(ids) <= set(by_id):
            return _error(404, "one or more contact ids do not exist", "contact_ids")
        for contact_id in ids:
            by_id[contact_id].list_ids.discard(list_id)
        self.writes["remove_list_contacts"] += 1
        return Reply.json(202, {"job_id": self._new_id()})

    def _get_fields(self, request: Request) -> Reply:
        reserved = [{"id": f"_rf{n}_T", "name": name, "field_type": "Text"} for n, name in enumerate(RESERVED_FIELDS)]
        return Reply.json(200, {"custom_fields": list(self.fields.values()), "reserved_fields": reserved,
                                "_metadata": {"self": f"{self.base_url}/v3/marketing/field_definitions"}})

    def _create_field(self, request: Request) -> Reply:
        try:
            body = request.json()
            name, field_type = body.get("name"), body.get("field_type")
        except (ValueError, AttributeError):
            return _error(400, "invalid JSON")
        taken = {spec["name"].lower() for spec in self.fields.values()} | set(RESERVED_FIELDS)
        if not isinstance(name, str) or len(name) > 100 or not FIELD_NAME.fullmatch(name):
            return _error(400, "names start with a letter or _ and hold letters, digits and _", "name")
        if name.lower() in taken:
            return _error(400, "the name is reserved or already used (case-insensitively)", "name")
        if field_type not in FIELD_TYPES:
            return _error(400, "field_type must be Text, Number or Date", "field_type")
        if len(self.fields) >= MAX_CUSTOM_FIELDS:
            return _error(400, f"at most {MAX_CUSTOM_FIELDS} custom fields")
        field_id = f"e{len(self.fields) + 1}_{FIELD_TYPES[field_type]}"
        self.fields[field_id] = {"id": field_id, "name": name, "field_type": field_type}
        self.writes["create_field"] += 1
        return Reply.json(200, {**self.fields[field_id], "_metadata": {"self": f"{self.base_url}/v3/marketing/"
                                                                               f"field_definitions/{field_id}"}})

    # --- suppressions ------------------------------------------------------------------------

    def _unsubscribes(self, request: Request) -> Reply:
        return self._page(request, self.unsubscribes)

    def _bounces(self, request: Request) -> Reply:
        return self._page(request, self.bounces)

    def _spam_reports(self, request: Request) -> Reply:
        return self._page(request, self.spam_reports)

    @staticmethod
    def _page(request: Request, rows: list[dict]) -> Reply:
        """Rows created between start_time and end_time (inclusive), oldest first, by limit and offset."""
        try:
            start, end = (int(request.arg(k)) if request.arg(k) else None for k in ("start_time", "end_time"))
            limit = int(request.arg("limit") or DEFAULT_SUPPRESSION_PAGE)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            return _error(400, "start_time, end_time, limit and offset are integers")
        if not 1 <= limit <= MAX_SUPPRESSION_PAGE or offset < 0:
            return _error(400, f"limit must be between 1 and {MAX_SUPPRESSION_PAGE}, offset at least 0", "limit")
        chosen = sorted((r for r in rows if (start is None or r["created"] >= start)
                         and (end is None or r["created"] <= end)), key=lambda r: r["created"])
        return Reply.json(200, chosen[offset:offset + limit])

    def _group_suppressions(self, request: Request, group_id: str) -> Reply:
        return Reply.json(200, sorted(self.groups.get(int(group_id), {})))

    def _all_group_suppressions(self, request: Request) -> Reply:
        """Every group's suppressions with their time (the per-group listing gives emails only)."""
        return Reply.json(200, [{"email": email, "group_id": group, "group_name": f"group {group}",
                                 "created_at": created}
                                for group, emails in sorted(self.groups.items())
                                for email, created in sorted(emails.items())])

    def _add_group_suppressions(self, request: Request, group_id: str) -> Reply:
        try:
            emails = request.json().get("recipient_emails")
        except (ValueError, AttributeError):
            return _error(400, "invalid JSON")
        if not isinstance(emails, list) or not all(isinstance(e, str) and EMAIL.fullmatch(e) for e in emails):
            return _error(400, "recipient_emails must be an array of email addresses", "recipient_emails")
        group = int(group_id)
        for email in emails:
            if group in self.groups and group not in self.deleted_groups:
                self.group_unsubscribe(group, email)
            elif email.lower() not in {r["email"] for r in self.unsubscribes}:
                self.unsubscribe(email)  # a deleted or unknown group: the global list
        self.writes["add_group_suppressions"] += 1
        return Reply.json(201, {"recipient_emails": emails})

    def _remove_group_suppression(self, request: Request, group_id: str, email: str) -> Reply:
        self.groups.get(int(group_id), {}).pop(email.lower(), None)  # never the global list
        self.writes["remove_group_suppression"] += 1
        return Reply(204)
