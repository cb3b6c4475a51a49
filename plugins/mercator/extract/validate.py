"""Type-check staged rows in SQL: typed contract columns, extras as text, one reason per bad row.

Builds temp table `_mercator_checked` from `_mercator_stage`: every contract column typed (NULL
when the file lacks it), extra columns as VARCHAR, `_line`, `_reason` (NULL for good rows), and
for bad rows only the row as read (`_bad_record`: the source text, or its fields as JSON), so
that good rows are not stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from mercator import contract
from mercator.extract.readers import STAGE
from mercator.extract.sql import ident, literal

CHECKED = "_mercator_checked"

ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?"
HAS_OFFSET = r"[T ][0-9:.]+(Z|[+-]\d{2}(:?\d{2})?)$"
LATEST_UNIX_SECONDS = 32_503_680_000  # year 3000
SEPARATORS = (";", "\t", "|")

# type -> (pattern the trimmed text must match, error message)
FORMATS = {
    "int": (r"[+-]?\d+", "not an integer"),
    "money": (r"[+-]?(\d+(\.\d*)?|\.\d+)", "not a number"),
    "date": (r"\d{4}-\d{2}-\d{2}", "invalid date"),
    "timestamp": (ISO_TIMESTAMP, "unparseable timestamp"),
    "unix_timestamp": (r"\d+(\.\d+)?", "not unix seconds"),
}


@dataclass(frozen=True)
class Checked:
    extra_columns: list[str]
    file_reason: str | None = None
    """Why every row of the file is unusable (required columns missing), if so."""


def check_staged(
    con: duckdb.DuckDBPyConnection, entity: contract.Entity, staged: list[str], source_timezone: str
) -> Checked:
    raw = {name: f"__r{i}" for i, name in enumerate(staged)}
    by_lower = {name.lower(): name for name in reversed(staged)}
    matched = {c.name: by_lower.get(c.name.lower()) for c in entity.columns}
    used = {name for name in matched.values() if name}
    extras = [name for name in staged if name not in used]
    missing = [c.name for c in entity.columns if c.required and not matched[c.name]]

    # A column's trimmed text (`__v<i>`) is computed once, only where a check reads it; the reason
    # text is built only for the rows that fail a check (the conditions are cheap booleans).
    one_of = set(entity.one_of or ())
    values, typed, outputs, errors = [], [], [], []
    for i, column in enumerate(entity.columns):
        source = matched[column.name]
        if source is None:
            outputs.append(f"null::{contract.RAW_TYPES[column.type]} as {ident(column.name)}")
            continue
        if column.type != "text" or column.required or column.name in one_of:
            values.append(f"nullif(trim({raw[source]}), '') as __v{i}")
        if column.type == "text":
            outputs.append(f"{raw[source]} as {ident(column.name)}")
        else:
            typed.append(f"{_typed(column.type, f'__v{i}', source_timezone)} as __t{i}")
            outputs.append(f"__t{i} as {ident(column.name)}")
        errors += _errors(column, f"__v{i}", f"__t{i}")
    present = {c.name: f"__v{i}" for i, c in enumerate(entity.columns) if matched[c.name]}
    errors += _one_of_error(entity, present)
    outputs += [f"{raw[name]} as {ident(name)}" for name in extras]

    missing_reason = f"file is missing required column(s): {', '.join(missing)}" if missing else None
    if missing_reason and len(staged) == 1 and any(sep in staged[0] for sep in SEPARATORS):
        missing_reason += f" (one header column {staged[0][:60]!r}: Mercator reads comma-separated files)"
    file_reason = literal(missing_reason) if missing_reason else "null"
    messages = ", ".join(f"case when {failed} then {message} end" for failed, message in errors)
    row_reason = f"nullif(concat_ws('; ', {messages}), '')" if errors else "null"
    any_failed = " or ".join(["_pre_reason is not null", *(f"coalesce({failed}, false)" for failed, _ in errors)])
    reason = (
        f"case when {file_reason} is not null or {any_failed} then nullif(concat_ws('; ', {file_reason}, "
        f"_pre_reason, case when _pre_reason is null then {row_reason} end), '') end"
    )
    raw_columns = [f"{ident(name)} as {alias}" for name, alias in raw.items()]
    record = "json_object(" + ", ".join(f"{literal(name)}, {alias}" for name, alias in raw.items()) + ")"
    con.execute(
        f"""
        create or replace temp table {CHECKED} as
        with trimmed as (
          select {', '.join([*raw_columns, *values, '_line', '_record', '_pre_reason'])}
          from {STAGE}
        ),
        parsed as (
          select *{''.join(', ' + t for t in typed)} from trimmed
        ),
        reasoned as (
          select *, {reason} as _reason from parsed
        )
        select {', '.join(outputs)}, _line, _reason,
          case when _reason is not null then coalesce(_record, {record}::varchar) end as _bad_record
        from reasoned
        """
    )
    return Checked(extras, missing_reason)


def _typed(kind: str, value: str, source_timezone: str) -> str:
    pattern = FORMATS[kind][0]
    matches = f"regexp_full_match({value}, {literal(pattern)})"
    if kind == "timestamp":
        parsed = (
            f"case when regexp_matches({value}, {literal(HAS_OFFSET)}) then try_cast({value} as timestamptz) "
            f"else {_local_to_instant(f'try_cast({value} as timestamp)', literal(source_timezone))} end"
        )
    elif kind == "unix_timestamp":
        seconds = f"try_cast({value} as double)"
        parsed = f"case when {seconds} < {LATEST_UNIX_SECONDS} then to_timestamp({seconds}) end"
    else:
        parsed = f"try_cast({value} as {contract.RAW_TYPES[kind]})"
    return f"case when {matches} then {parsed} end"


def _local_to_instant(local: str, zone: str) -> str:
    """A naive local time in `zone` as an instant, read like Python's zoneinfo with fold=0.

    A time that occurs twice (clocks go back) is its first occurrence, the earlier instant; a time
    that does not exist (clocks go forward) is read with the offset before the change. DuckDB alone
    picks the later occurrence, so the reading from the offset a few hours earlier is preferred when
    it shows the same local time.
    """
    earlier = f"(timezone({zone}, {local} - interval 3 hour) + interval 3 hour)"
    return (
        f"case when timezone({zone}, {earlier}) = {local} then least({earlier}, timezone({zone}, {local})) "
        f"else timezone({zone}, {local}) end"
    )


def _errors(column: contract.Column, value: str, typed: str) -> list[tuple[str, str]]:
    """(condition, message) of each check of one column: the condition is true when it fails."""
    errors = []
    if column.required:
        errors.append((f"{value} is null", literal(f"{column.name}: required value missing")))
    if column.type != "text":
        message = literal(f"{column.name}: {FORMATS[column.type][1]} ")
        errors.append((f"{value} is not null and {typed} is null", f"{message} || '''' || left({value}, 100) || ''''"))
    return errors


def _one_of_error(entity: contract.Entity, values: dict[str, str]) -> list[tuple[str, str]]:
    """A row with no value in any of the entity's `one_of` columns (absent columns count as empty)."""
    if not entity.one_of:
        return []
    present = [values[name] for name in entity.one_of if name in values]
    message = literal(f"{', '.join(entity.one_of)}: at least one value required")
    return [(f"coalesce({', '.join(present)}) is null" if present else "true", message)]
