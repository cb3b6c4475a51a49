"""SendGrid v3 Mail Send (`POST /v3/mail/send`) as the stand-in checks it: limits and error shapes.

`problems` lists what SendGrid would answer 400 for, each as `(message, field)` with the field path
SendGrid names (`personalizations.3.to.0.email`); `sent` turns an accepted body into one
`SentMessage` per personalization. Only dynamic-template sends are served: `template_id` is required.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_PERSONALIZATIONS = 1_000
MAX_RECIPIENTS = 1_000  # to + cc + bcc over the whole request
MAX_MAIL_BYTES = 30 * 1024 * 1024
MAX_CUSTOM_ARGS_BYTES = 10_000  # per personalization
MAX_CATEGORIES, MAX_CATEGORY_CHARS = 10, 255
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."


@dataclass(frozen=True)
class SentMessage:
    """What one personalization's recipients got, under the request's X-Message-Id."""

    message_id: str
    to: tuple[str, ...]
    template_id: str
    from_email: str
    dynamic_template_data: dict
    custom_args: dict
    categories: tuple[str, ...]
    asm: dict | None


def error_body(problems: list[tuple[str, str | None]]) -> dict:
    """SendGrid's 400 body: `{"errors": [{"message", "field", "help"}]}`."""
    return {
        "errors": [
            {"message": message, "field": field, "help": HELP + (field.split(".")[0] if field else "")}
            for message, field in problems
        ]
    }


def problems(body: object, templates: set[str]) -> list[tuple[str, str | None]]:
    """Every reason SendGrid would refuse this body (empty: it is accepted)."""
    if not isinstance(body, dict):
        return [("Bad Request", None)]
    found = _personalization_problems(body.get("personalizations"))
    sender = body.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        found.append(
            (
                "The from object must be provided for every email send. It is an object that requires an "
                "email parameter, but may also contain a name parameter.",
                "from.email",
            )
        )
    elif not _is_email(sender["email"]):
        found.append(("The from email does not contain a valid address.", "from.email"))
    template = body.get("template_id")
    if not template:
        found.append(("The template_id is required: the stand-in serves dynamic template sends only.", "template_id"))
    elif template not in templates:
        found.append(
            (f"The template_id must be the id of one of your dynamic templates; {template!r} is not.", "template_id")
        )
    categories = body.get("categories", [])
    if (
        not isinstance(categories, list)
        or len(categories) > MAX_CATEGORIES
        or not all(isinstance(c, str) and 0 < len(c) <= MAX_CATEGORY_CHARS for c in categories)
    ):
        found.append(
            (
                f"Categories must be at most {MAX_CATEGORIES} strings of at most {MAX_CATEGORY_CHARS} characters.",
                "categories",
            )
        )
    asm = body.get("asm")
    if asm is not None and (not isinstance(asm, dict) or type(asm.get("group_id")) is not int):
        found.append(("The asm group_id must be an integer.", "asm.group_id"))
    return found


def _personalization_problems(personalizations: object) -> list[tuple[str, str | None]]:
    if not isinstance(personalizations, list) or not personalizations:
        return [("You must have at least one personalization.", "personalizations")]
    if len(personalizations) > MAX_PERSONALIZATIONS:
        return [
            (
                f"The personalization block is limited to {MAX_PERSONALIZATIONS} personalizations per API "
                f"request. You have provided {len(personalizations)} personalizations. Please consider splitting "
                "this into multiple requests and resending your request.",
                "personalizations",
            )
        ]
    found: list[tuple[str, str | None]] = []
    recipients = 0
    for n, personalization in enumerate(personalizations):
        where = f"personalizations.{n}"
        if not isinstance(personalization, dict):
            found.append(("Each personalization must be an object.", where))
            continue
        to = personalization.get("to")
        if not isinstance(to, list) or not to:
            found.append(
                (
                    "The to array is required for all personalization objects, and must have at least one "
                    "email object with a valid email address.",
                    f"{where}.to",
                )
            )
            to = []
        recipients += sum(len(personalization.get(kind) or []) for kind in ("to", "cc", "bcc"))
        found += [
            ("Does not contain a valid address.", f"{where}.to.{m}.email")
            for m, recipient in enumerate(to)
            if not isinstance(recipient, dict) or not _is_email(recipient.get("email"))
        ]
        args = personalization.get("custom_args", {})
        if not isinstance(args, dict):
            found.append(("Invalid type. Expected: object.", f"{where}.custom_args"))
            continue
        found += [
            (f"Invalid type. Expected: string, given: {type(value).__name__}.", f"{where}.custom_args.{key}")
            for key, value in args.items()
            if not isinstance(value, str)
        ]
        if len(json.dumps(args)) > MAX_CUSTOM_ARGS_BYTES:
            found.append(
                (
                    f"The custom_args of a personalization may not exceed {MAX_CUSTOM_ARGS_BYTES} bytes.",
                    f"{where}.custom_args",
                )
            )
        if not isinstance(personalization.get("dynamic_template_data", {}), dict):
            found.append(("Invalid type. Expected: object.", f"{where}.dynamic_template_data"))
    if recipients > MAX_RECIPIENTS:
        found.append(
            (f"There is a limit of {MAX_RECIPIENTS} total recipients (to + cc + bcc) per request.", "personalizations")
        )
    return found


def _is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and bool(EMAIL.fullmatch(value))


def sandboxed(body: dict) -> bool:
    """`mail_settings.sandbox_mode.enable`: SendGrid validates the request and sends nothing."""
    return bool(((body.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable"))


def sent(body: dict, message_id: str) -> list[SentMessage]:
    """One SentMessage per personalization of an accepted body."""
    return [
        SentMessage(
            message_id,
            tuple(r["email"] for r in p["to"]),
            body["template_id"],
            body["from"]["email"],
            p.get("dynamic_template_data") or {},
            p.get("custom_args") or {},
            tuple(body.get("categories") or ()),
            body.get("asm"),
        )
        for p in body["personalizations"]
    ]
