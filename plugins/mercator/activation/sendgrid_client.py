"""The SendGrid API calls of the destination: the official SDK with retries, backoff and pacing.

The SDK neither retries nor paces. Every call here retries 429 and 5xx with exponential backoff
and full jitter (a 429 waits for `X-RateLimit-Reset`; SendGrid sends no Retry-After), retries
connection errors and timeouts only when the call is idempotent or the request never reached
SendGrid whole (urllib's URLError: the connection failed before it was written), and sleeps until
the reset whenever `X-RateLimit-Remaining` reaches 0. Error text never carries the API key nor an
email address.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.client import HTTPException
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit

import python_http_client
from python_http_client.client import Response
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from mercator.activation.destination import ConfigError, Connection, Suppression

log = logging.getLogger(__name__)
sleep = time.sleep  # every wait goes through here; tests swap it for a fast one

BACKOFF_BASE, BACKOFF_CAP = 0.5, 30.0  # seconds
MAX_PACE_SECONDS = 120.0  # longest wait for a rate-limit window to reset
POLL_CAP = 15.0  # longest pause between two job polls
FINAL_JOB_STATUSES = ("completed", "errored", "failed")
SEARCH_EMAILS, LIST_PAGE, SUPPRESSION_PAGE = 100, 1_000, 500  # documented maxima per call
_BEARER = re.compile(r"Bearer [^'\"\s,}]+")
_ADDRESS = re.compile(r"[^@\s\[\]<>\"',;:()]+@[^@\s\[\]<>\"',;:()]+")
SUPPRESSION_LISTS = (("suppression/unsubscribes", "unsubscribe"), ("suppression/bounces", "bounce"),
                     ("suppression/spam_reports", "spamreport"))
JSON_TYPE = "application/json; charset=utf-8"


class _QuietSdkLog(logging.Filter):
    """python_http_client logs headers (the API key) and bodies (addresses) at DEBUG: redact the
    key, drop the bodies."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            if record.msg.startswith("PAYLOAD") or " Response: " in record.msg:
                return False
            record.msg = _BEARER.sub("Bearer [redacted]", record.msg)
        return True


logging.getLogger("python_http_client.client").addFilter(_QuietSdkLog())


class SendGridError(RuntimeError):
    """A call that failed for good; `status` is None for a connection error or timeout, `written`
    False when the request never reached SendGrid whole (so it cannot have been applied), `errors`
    the (message, field) of each error SendGrid listed."""

    def __init__(self, message: str, status: int | None, written: bool = True,
                 errors: tuple[tuple[str, str | None], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.written = written
        self.errors = errors


class SendGridClient:
    """`request` and the calls the destination makes, over `SendGridAPIClient(api_key, host=base_url)`."""

    def __init__(self, api_key: str, base_url: str, timeout: float, max_attempts: int) -> None:
        self._sdk = SendGridAPIClient(api_key, host=base_url)
        # Bodies are serialised here (the SDK sends a str body as it is under a non-default JSON type),
        # so that the size checked against a limit is the size sent, and large bodies are encoded once.
        self._sdk.client.request_headers["Content-Type"] = JSON_TYPE
        self._key = api_key
        self.timeout = timeout
        self.max_attempts = max_attempts

    @classmethod
    def of_connection(cls, kind: str, connection: Connection | None, timeout: float,
                      max_attempts: int) -> SendGridClient:
        """The client of a destination's connection: password = API key; host, port, schema = API base."""
        if connection is None or not connection.password:
            raise ConfigError(f"{kind}: the connection must hold the API key as its password")
        return cls(connection.password, connection.base_url("api.sendgrid.com"), timeout, max_attempts)

    def request(self, method: str, path: str, body: object = None, query: dict | None = None,
                idempotent: bool = True) -> Response:
        """`method /v3/<path>` with retries; `body` an object or its JSON text (`as_json`); raises
        SendGridError once the retries are spent."""
        call = getattr(self._sdk.client._(path), method.lower())
        text = None if body is None else body if isinstance(body, str) else as_json(body)
        return self._retry(f"{method} /v3/{path}", lambda: call(request_body=text, query_params=query,
                                                                timeout=self.timeout), idempotent)

    def download(self, url: str) -> bytes:
        """A download link from the API (an import's errors file), fetched without the API key."""
        return self._retry("GET errors_url", lambda: python_http_client.Client(host=url).get(timeout=self.timeout),
                           True).body

    def wait_for_jobs(self, job_ids: list[str], first_wait: float, timeout: float) -> dict[str, dict]:
        """Poll import jobs until each is final or `timeout` seconds of waiting have passed; the last
        status seen per job (`{"status": "unreadable", "error": ...}` when polling itself failed)."""
        jobs: dict[str, dict] = {}
        pending, waited, pause = list(dict.fromkeys(job_ids)), 0.0, first_wait
        while True:
            for job_id in pending:
                try:
                    jobs[job_id] = self.request("GET", f"marketing/contacts/imports/{job_id}").to_dict
                except SendGridError as error:
                    jobs[job_id] = {"status": "unreadable", "error": str(error)}
            pending = [j for j in pending if jobs[j].get("status") not in (*FINAL_JOB_STATUSES, "unreadable")]
            if not pending or waited >= timeout:
                return jobs
            sleep(pause)
            waited, pause = waited + pause, min(pause * 1.5, POLL_CAP)

    def find_or_create(self, find: Callable[[], str | None], path: str, body: dict) -> str:
        """The id `find` returns, else of the object POSTed to `path`. A create that timed out or
        was refused (400: it exists) may still have happened: look again before creating again."""
        for _ in range(self.max_attempts):
            found = find()
            if found:
                return found
            try:
                return self.request("POST", path, body, idempotent=False).to_dict["id"]
            except SendGridError as error:
                if error.status not in (None, 400):
                    raise
                failure = error
        raise failure

    def find_list(self, name: str) -> str | None:
        """The id of the contact list called `name`, paging through all lists."""
        query: dict = {"page_size": LIST_PAGE}
        while True:
            page = self.request("GET", "marketing/lists", query=query).to_dict
            for item in page.get("result") or []:
                if item.get("name") == name:
                    return item["id"]
            following = (page.get("_metadata") or {}).get("next")
            if not following:
                return None
            query = {"page_size": LIST_PAGE, "page_token": parse_qs(urlsplit(following).query)["page_token"][0]}

    def contact_ids(self, emails: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Contact ids by email (absent: no such contact), and the reason per email whose search failed."""
        found, failed = {}, {}
        unique = list(dict.fromkeys(emails))
        for chunk in chunks(unique, SEARCH_EMAILS):
            try:
                result = self.request("POST", "marketing/contacts/search/emails", {"emails": chunk}).to_dict
            except SendGridError as error:
                if error.status != 404:  # 404: none of them exists
                    log.warning("contact ids of %d emails not resolved: %s", len(chunk), error)
                    failed.update(dict.fromkeys(chunk, str(error)))
                continue
            for email, entry in (result.get("result") or {}).items():
                if (entry or {}).get("contact"):
                    found[email.lower()] = entry["contact"]["id"]
        return found, failed

    def row_errors(self, job: dict) -> tuple[dict[str, str], str]:
        """The rows a finished import job rejected (email -> reason) from its errors file, or why
        they cannot be known."""
        url = (job.get("results") or {}).get("errors_url")
        if job.get("status") == "completed" or not url:
            return {}, ""
        if urlsplit(url).scheme not in ("http", "https"):
            return {}, "import errors unreadable: errors_url is not an http(s) link"
        try:
            text = self.download(url).decode("utf-8", "replace")
        except SendGridError as error:
            return {}, f"import errors unreadable: {error}"
        rows = csv.DictReader(io.StringIO(text))
        return {(row.get("email") or "").strip().lower(): row.get("error") or "rejected" for row in rows}, ""

    def suppression_rows(self, path: str, start: int | None) -> list[dict]:
        """Every row of a suppression list created at or after `start` (epoch seconds), page by page."""
        rows: list[dict] = []
        query = {"limit": SUPPRESSION_PAGE, **({"start_time": start} if start is not None else {})}
        while True:
            page = self.request("GET", path, query={**query, "offset": len(rows)}).to_dict or []
            rows += page
            if len(page) < SUPPRESSION_PAGE:
                return rows

    def suppressions(self, since: str | None) -> list[Suppression]:
        """Global and group unsubscribes, bounces and spam reports created at or after `since` (ISO
        time, naive = UTC; None: all)."""
        start = None if since is None else int(_utc(datetime.fromisoformat(since)).timestamp())
        found = [(row["email"], reason, row["created"]) for path, reason in SUPPRESSION_LISTS
                 for row in self.suppression_rows(path, start)]
        groups = self.request("GET", "asm/suppressions").to_dict or []  # every group, no time filter
        found += [(row["email"], "group_unsubscribe", row["created_at"]) for row in groups
                  if start is None or row["created_at"] >= start]
        return [Suppression("email", email.strip().lower(), reason, datetime.fromtimestamp(created, UTC).isoformat())
                for email, reason, created in found]

    def _retry(self, label: str, send: Callable[[], Response], idempotent: bool) -> Response:
        for attempt in range(1, self.max_attempts + 1):
            wait = None
            try:
                response = send()
            except HTTPError as error:
                message, errors = self._answer(error.body)
                failure = SendGridError(f"{label}: {error.status_code} {message}", error.status_code, True, errors)
                if error.status_code == 429:
                    wait = _reset_wait(error.headers)
                elif error.status_code < 500:
                    self._pace(error.headers)
                    raise failure from None
            except (OSError, HTTPException) as error:
                written = not isinstance(error, URLError)  # urllib wraps what fails before the request is sent
                failure = SendGridError(self._scrub(f"{label}: {type(error).__name__} {error}"), None, written)
                if written and not idempotent:
                    raise failure from None
            else:
                self._pace(response.headers)
                return response
            if attempt == self.max_attempts:
                break
            wait = wait if wait else random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt))
            log.warning("%s; retry %d of %d in %.1f s", failure, attempt, self.max_attempts - 1, wait)
            sleep(wait)
        raise SendGridError(f"{failure} (after {self.max_attempts} attempts)", failure.status, failure.written,
                            failure.errors)

    def _pace(self, headers: object) -> None:
        """Sleep until the rate-limit window resets when the last call used up its requests."""
        if headers is not None and headers.get("X-RateLimit-Remaining") == "0":
            wait = _reset_wait(headers)
            if wait:
                log.info("rate limit reached; waiting %.1f s for the window to reset", wait)
                sleep(wait)

    def _answer(self, body: bytes | None) -> tuple[str, tuple[tuple[str, str | None], ...]]:
        """SendGrid's error messages from a response body, short, without the key or an address; and
        each error's (message, field)."""
        text = (body or b"").decode("utf-8", "replace")
        try:
            errors = tuple((self._clean(str(e.get("message", e))), e["field"] if isinstance(e.get("field"), str)
                            else None) for e in json.loads(text)["errors"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._clean(text[:300]), ()
        return "; ".join(message for message, _ in errors)[:300], errors

    def _clean(self, text: str) -> str:
        return _ADDRESS.sub("[address]", self._scrub(text))

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key else text


def _reset_wait(headers: object) -> float:
    """Seconds until `X-RateLimit-Reset` (epoch seconds) plus a little jitter; 0 when unknown or past."""
    try:
        reset = float(headers.get("X-RateLimit-Reset"))
    except (AttributeError, TypeError, ValueError):
        return 0.0
    wait = reset - time.time()
    return min(wait + random.uniform(0.05, 0.25), MAX_PACE_SECONDS) if wait > 0 else 0.0


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_json(body: object) -> str:
    """A request body as sent: JSON, ASCII only (so its length is its size in bytes)."""
    return json.dumps(body)


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sized_batches(items: list[tuple], overhead: int, max_items: int, max_bytes: int) -> Iterator[list[tuple]]:
    """Items (each tuple ending in its JSON size) in runs of at most `max_items` whose JSON array,
    with `overhead` for the rest of the body and ", " between items, stays within `max_bytes`."""
    batch, size = [], overhead
    for item in items:
        if batch and (len(batch) == max_items or size + 2 + item[-1] > max_bytes):
            yield batch
            batch, size = [], overhead
        size += item[-1] + (2 if batch else 0)
        batch.append(item)
    if batch:
        yield batch
