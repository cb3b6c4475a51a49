"""Stage one delivery file into temp view `_mercator_stage`: every field as VARCHAR.

The staged table has the file's columns (names made unique) and `_line`, `_record` (the source
text when a row could not be split into fields), `_pre_reason` (why such a row is unusable).
Readers raise `UnreadableFile` when the file as a whole is not a table.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from mercator import contract
from mercator.extract.chunks import file_head
from mercator.extract.encoding import INVALID_UTF8_REASON, UnreadableFile, blank_invalid_lines, to_utf8
from mercator.extract.lines import csv_lines, unquoted_line_count
from mercator.extract.sql import ident, literal

log = logging.getLogger(__name__)

STAGE = "_mercator_stage"
STAGE_META = {"_line": "bigint", "_record": "varchar", "_pre_reason": "varchar"}
RESERVED = {*STAGE_META, "_reason", "_bad_record", *contract.LOAD_METADATA_COLUMNS}
HEADER_SNIFF_BYTES = 1 << 20
RECORD_PREVIEW_CHARS = 10_000
BAD_LINES_BATCH = 10_000


@dataclass(frozen=True)
class Staged:
    columns: list[str]
    encoding: str | None


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, workdir: Path) -> Staged:
    """Stage `path` by its suffix; `workdir` holds transcoded copies."""
    readers = {"csv": stage_csv, "jsonl": stage_jsonl, "parquet": stage_parquet}
    return readers[path.suffix.lstrip(".").lower()](con, path, workdir)


TEMP_TABLES = (
    "_mercator_csv", "_mercator_rejects", "_mercator_reject_scans", "_mercator_good_lines",
    "_mercator_reject_lines", "_mercator_split", "_mercator_lines", "_mercator_bad_lines", "_mercator_stage_rows",
)


def drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    """Free the temp objects staging made (a large file's rows would otherwise stay in memory)."""
    con.execute(f"drop view if exists {STAGE}")
    for table in TEMP_TABLES:
        con.execute(f"drop table if exists {table}")


def unique_names(names: list[str]) -> list[str]:
    """Non-empty names, unique case-insensitively (DuckDB identifiers are), clear of reserved ones and
    of the `__` prefix that validation uses for its own columns."""
    taken = {r.lower() for r in RESERVED}
    result = []
    for i, name in enumerate(names):
        base = name.strip() or f"column{i}"
        if base.startswith("__"):
            base = "column" + base
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _create_stage(con: duckdb.DuckDBPyConnection, select_sql: str, materialize: bool = True) -> None:
    """The stage is always a view; `materialize` first copies the rows into a temp table."""
    if materialize:
        con.execute(f"create or replace temp table _mercator_stage_rows as {select_sql}")
        select_sql = "select * from _mercator_stage_rows"
    con.execute(f"create or replace temp view {STAGE} as {select_sql}")


def _empty_stage(con: duckdb.DuckDBPyConnection) -> None:
    metas = ", ".join(f"null::{kind} as {name}" for name, kind in STAGE_META.items())
    _create_stage(con, f"select {metas} where false")


# CSV -----------------------------------------------------------------------------------------

CSV_REJECT_REASON = """case
  when error_type = 'MISSING COLUMNS' then
    'wrong column count: ' || regexp_extract(error_message, 'Found: (\\d+)', 1) || ' fields, header has {n}'
  when error_type = 'TOO MANY COLUMNS' then 'wrong column count: more than {n} fields, header has {n}'
  when error_type = 'INVALID ENCODING' then '{invalid_utf8}'
  when error_type = 'UNQUOTED VALUE' then
    'malformed quoting: unterminated quote or text after a closing quote'
  when error_type = 'LINE SIZE OVER MAXIMUM' then 'line too long: ' || error_message
  else 'unparseable CSV row: ' || error_message
end"""


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, workdir: Path) -> Staged:
    text = to_utf8(path, "CSV", workdir)
    header = _csv_header(text.path)
    if not header:
        _empty_stage(con)
        return Staged([], text.encoding)
    names = unique_names(header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    con.execute("drop table if exists _mercator_rejects; drop table if exists _mercator_reject_scans")
    con.execute(
        f"create or replace temp table _mercator_csv as select * from read_csv({literal(str(text.path))}, "
        f"columns={columns}, auto_detect=false, header=true, delim=',', quote='\"', escape='\"', "
        "store_rejects=true, rejects_table='_mercator_rejects', rejects_scan='_mercator_reject_scans', "
        "rejects_limit=0)"
    )
    consecutive = _register_csv_lines(con, text.path)
    line, lines_join = ("(_mercator_csv.rowid + 2)::bigint", "") if consecutive else (
        "lines.line::bigint", " left join _mercator_good_lines as lines on _mercator_csv.rowid = lines.row_index"
    )
    fields = ", ".join(f"c{i} as {ident(name)}" for i, name in enumerate(names))
    nulls = ", ".join(f"null::varchar as {ident(name)}" for name in names)
    reason = CSV_REJECT_REASON.format(n=len(names), invalid_utf8=INVALID_UTF8_REASON)
    _create_stage(
        con,
        f"""
        select {fields}, {line} as _line, null::varchar as _record, null::varchar as _pre_reason
        from _mercator_csv{lines_join}
        union all
        select {nulls}, outside.line,
          left(ltrim(rejects.csv_line, chr(10) || chr(13)), {RECORD_PREVIEW_CHARS}),
          {reason}
        from (
          select line, arg_min(error_type, byte_position) as error_type,
            arg_min(error_message, byte_position) as error_message, any_value(csv_line) as csv_line
          from _mercator_rejects
          group by line
        ) as rejects
        left join _mercator_reject_lines as outside on outside.duckdb_line = rejects.line
        """,
        materialize=False,
    )
    return Staged(names, text.encoding)


def _csv_header(path: Path) -> list[str]:
    head = file_head(path, HEADER_SNIFF_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")
    if not head.strip():
        return []
    return next(csv.reader(io.StringIO(head)), [])


def _register_csv_lines(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Store the physical line of each good row (by its row index in `_mercator_csv`, which keeps file
    order) and of each rejected DuckDB line, streaming the file. True, storing no good lines, when the
    good rows are lines 2, 3, ... in order (no quoted field, blank line or reject): a row's line is
    then its row index + 2, found without an array over the file's lines."""
    rejected = con.execute("select distinct line from _mercator_rejects").fetchnumpy()["line"]
    [(good_rows,)] = con.execute("select count(*) from _mercator_csv").fetchall()
    con.execute("create or replace temp table _mercator_reject_lines (duckdb_line bigint, line bigint)")
    if not rejected.size and unquoted_line_count(path) == good_rows + 1:
        return True  # the usual file: a header, then one record per line (no quotes, no blank line)
    con.execute("create or replace temp table _mercator_good_lines (row_index bigint, line bigint)")
    good = 0
    for lines in csv_lines(path, np.asarray(rejected, dtype=np.int64)):
        row_index = np.arange(good, good + lines.good.size)
        con.from_df(pd.DataFrame({"row_index": row_index, "line": lines.good})).insert_into("_mercator_good_lines")
        con.from_df(pd.DataFrame({"duckdb_line": lines.rejected_duckdb_lines, "line": lines.rejected_lines})
                    ).insert_into("_mercator_reject_lines")
        good += lines.good.size
    if good != good_rows:
        log.warning("could not map CSV rows to physical lines (%d rows, %d lines): _line left null",
                    good_rows, good)
        con.execute("delete from _mercator_good_lines")
    return False


# JSON Lines ----------------------------------------------------------------------------------


def stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path, workdir: Path) -> Staged:
    text = to_utf8(path, "JSON Lines", workdir)
    source = text.path
    con.execute("create or replace temp table _mercator_bad_lines (line bigint, text varchar)")
    if text.has_invalid_lines:
        source = workdir / f"valid_utf8{path.suffix}"
        _insert_bad_lines(con, blank_invalid_lines(text.path, source))
    con.execute(
        "create or replace temp table _mercator_split as "
        "select unnest(generate_series(1, len(parts))) as line, "
        "rtrim(ltrim(unnest(parts), chr(65279)), chr(13)) as text "
        f"from (select string_split(content, chr(10)) as parts from read_text({literal(str(source))}))"
    )
    con.execute(
        "create or replace temp table _mercator_lines as select line, text, "
        "case when json_valid(text) then lower(json_type(text)) end as json_kind "
        "from _mercator_split where trim(text) <> ''"
    )
    keys = [row[0] for row in con.execute(
        """
        select key from (
          select line, unnest(json_keys(text)) as key, unnest(range(len(json_keys(text)))) as position
          from _mercator_lines
          where json_kind = 'object'
        )
        group by key
        order by min(line), min(position)
        """
    ).fetchall()]
    names = unique_names(keys)
    fields = ", ".join(
        f"case when json_kind = 'object' then json_extract_string(text, {_json_path(key)}) end "
        f"as {ident(name)}"
        for key, name in zip(keys, names, strict=True)
    )
    nulls = ", ".join(f"null::varchar as {ident(name)}" for name in names)
    _create_stage(
        con,
        f"""
        select {fields + ',' if fields else ''} line as _line, text as _record,
          case
            when json_kind is null then 'invalid JSON'
            when json_kind <> 'object' then 'not a JSON object: ' || json_kind
          end as _pre_reason
        from _mercator_lines
        union all
        select {nulls + ',' if nulls else ''} line, text, '{INVALID_UTF8_REASON}'
        from _mercator_bad_lines
        """,
    )
    return Staged(names, text.encoding)


def _insert_bad_lines(con: duckdb.DuckDBPyConnection, bad_lines: Iterator[tuple[int, bytes]]) -> None:
    """Insert the lines that are not valid UTF-8 into `_mercator_bad_lines`, a batch at a time."""
    previews = ((n, line.decode("utf-8", "replace")[:RECORD_PREVIEW_CHARS]) for n, line in bad_lines)
    while batch := list(islice(previews, BAD_LINES_BATCH)):
        con.executemany("insert into _mercator_bad_lines values (?, ?)", batch)


def _json_path(key: str) -> str:
    return literal('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')


# Parquet -------------------------------------------------------------------------------------

NESTED_TYPE_PREFIXES = ("STRUCT", "MAP", "UNION")


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, workdir: Path) -> Staged:
    scan = f"read_parquet({literal(str(path))}, file_row_number=true)"
    try:
        described = con.execute(f"describe select * exclude (file_row_number) from {scan}").fetchall()
    except duckdb.Error as exc:
        raise UnreadableFile(f"not a readable Parquet file: {str(exc).splitlines()[0]}") from None
    names = unique_names([row[0] for row in described])
    fields = ", ".join(
        f"{_parquet_as_text(ident(column), kind)} as {ident(name)}"
        for (column, kind, *_), name in zip(described, names, strict=True)
    )
    _create_stage(
        con,
        f"select {fields + ',' if fields else ''} file_row_number + 1 as _line, "
        f"null::varchar as _record, null::varchar as _pre_reason from {scan}",
    )
    return Staged(names, None)


def _parquet_as_text(column: str, kind: str) -> str:
    """Text the same validation reads: instants as UTC ISO-8601 with Z, nested values as JSON."""
    if kind == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('UTC', {column}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if kind.startswith(NESTED_TYPE_PREFIXES) or kind.endswith("]"):
        return f"to_json({column})::varchar"
    return f"{column}::varchar"
