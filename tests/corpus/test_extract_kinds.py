"""Bad inputs whose outcome is decided at extract: quarantined with a reason, the rest loaded.

Each case runs the real extract step on a tiny landing folder and checks rows in = rows loaded +
rows quarantined (tests/corpus/README.md lists every kind and its outcome).
"""

from __future__ import annotations

import gzip
import io
import json
import time
import zipfile

import pytest

from .conftest import ORDER_HEADER, ORDERS, csv_text, order

GOOD_BEFORE = "good-a,cust-a,a@example.test,,2026-03-01T10:00:00Z,10.00,USD,paid"
GOOD_AFTER = "good-b,cust-b,b@example.test,,2026-03-02T10:00:00Z,20.00,USD,paid"


def _row(order_id: str = "bad", ordered_at: str = "2026-03-01T10:00:00Z", total: str = "5.00") -> str:
    return f"{order_id},cust-x,x@example.test,,{ordered_at},{total},USD,paid"


# kind -> (bad CSV lines between two good rows, the reason of each bad line)
ROW_KINDS = {
    "unparseable_numbers": (
        [_row("n1", total="12.50 USD"), _row("n2", total='"1.234,50"'), _row("n3", total="abc"),
         _row("n4", total="€10"), _row("n5", total="1e3"), _row("n6", total="99999999999999999999.99"),
         _row("n7", total="NaN")],
        ["total_amount: not a number '12.50 USD'", "total_amount: not a number '1.234,50'",
         "total_amount: not a number 'abc'", "total_amount: not a number '€10'", "total_amount: not a number '1e3'",
         "total_amount: not a number '99999999999999999999.99'", "total_amount: not a number 'NaN'"],
    ),
    "unparseable_timestamps": (
        [_row("t1", "yesterday"), _row("t2", "03/01/2026 10:00"), _row("t3", "2026-03-01T10:00:00 PST"),
         _row("t4", "1772373900")],
        ["ordered_at: unparseable timestamp 'yesterday'", "ordered_at: unparseable timestamp '03/01/2026 10:00'",
         "ordered_at: unparseable timestamp '2026-03-01T10:00:00 PST'",
         "ordered_at: unparseable timestamp '1772373900'"],
    ),
    "impossible_dates": (
        [_row("d1", "2026-02-30T10:00:00Z"), _row("d2", "2026-13-01"), _row("d3", "2026-04-31"),
         _row("d4", "2026-03-01T25:00:00Z"), _row("d5", "2025-02-29")],
        ["ordered_at: unparseable timestamp '2026-02-30T10:00:00Z'", "ordered_at: unparseable timestamp '2026-13-01'",
         "ordered_at: unparseable timestamp '2026-04-31'", "ordered_at: unparseable timestamp '2026-03-01T25:00:00Z'",
         "ordered_at: unparseable timestamp '2025-02-29'"],
    ),
    "missing_keys": (
        [_row(""), _row("   "), _row("k3", ordered_at=""), _row("k4", total="")],
        ["order_id: required value missing", "order_id: required value missing",
         "ordered_at: required value missing", "total_amount: required value missing"],
    ),
    "ragged_rows": (
        ["r1,cust-r,r@example.test,,2026-03-01T10:00:00Z,5.00", _row("r2") + ",surplus,fields", "r3"],
        ["wrong column count: 6 fields, header has 8", "wrong column count: more than 8 fields, header has 8",
         "wrong column count: 1 fields, header has 8"],
    ),
    "malformed_quoting": (
        ['q1,cust-q,"q@example.test"x,,2026-03-01T10:00:00Z,5.00,USD,paid'],
        ["malformed quoting: unterminated quote or text after a closing quote"],
    ),
}


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_bad_rows_are_quarantined_with_their_reason_and_line_and_good_rows_load(corpus, kind: str) -> None:
    bad_lines, expected_reasons = ROW_KINDS[kind]
    text = "\n".join([",".join(ORDER_HEADER), GOOD_BEFORE, *bad_lines, GOOD_AFTER]) + "\n"
    file = corpus.write(f"{ORDERS}/{kind}.csv", text)

    [result] = corpus.extract(ORDERS).values()

    assert corpus.loaded_ids(file) == ["good-a", "good-b"]
    reasons = corpus.reasons(file)
    assert [reasons[line] for line in range(3, 3 + len(bad_lines))] == expected_reasons
    assert (result["rows_in"], result["rows_loaded"], result["rows_quarantined"]) == (
        len(bad_lines) + 2, 2, len(bad_lines))
    corpus.assert_accounted()


def test_impossible_birth_date_quarantines_the_contact_row(corpus) -> None:
    header = "contact_id,email,birth_date,updated_at\n"
    file = corpus.write("crm/contacts/c.csv", header + "c1,a@example.test,1990-02-30,2026-03-01T00:00:00Z\n"
                        "c2,b@example.test,1990-02-28,2026-03-01T00:00:00Z\n")

    corpus.extract("crm/contacts")

    assert corpus.reasons(file) == {2: "birth_date: invalid date '1990-02-30'"}
    assert corpus.loaded_ids(file, "contact_id", "crm__contacts") == ["c2"]
    corpus.assert_accounted()


def test_erasure_request_without_an_identifier_is_quarantined(corpus) -> None:
    header = "request_id,email,phone,customer_id,requested_at\n"
    file = corpus.write("crm/erasure_requests/e.csv", header + "e1,a@example.test,,,2026-03-01T00:00:00Z\n"
                        "e2, , ,,2026-03-01T00:00:00Z\ne3,,,cust-3,2026-03-01T00:00:00Z\n"
                        "e4,,,,\n")
    no_phone_column = corpus.write("crm/erasure_requests/f.csv", "request_id,email,requested_at\n"
                                   "f1,,2026-03-01T00:00:00Z\nf2,b@example.test,2026-03-01T00:00:00Z\n")

    corpus.extract("crm/erasure_requests")

    none = "email, phone, customer_id: at least one value required"
    assert corpus.reasons(file) == {3: none, 5: f"requested_at: required value missing; {none}"}
    assert corpus.loaded_ids(file, "request_id", "crm__erasure_requests") == ["e1", "e3"]
    assert corpus.reasons(no_phone_column) == {2: none}
    assert corpus.loaded_ids(no_phone_column, "request_id", "crm__erasure_requests") == ["f2"]
    corpus.assert_accounted()


def test_invalid_utf8_line_in_a_utf8_file_is_quarantined(corpus) -> None:
    text = csv_text([order("u1", email="zoë@example.test"), order("u2", email="@@"), order("u3")], ORDER_HEADER)
    file = corpus.write(f"{ORDERS}/u.csv", text.encode().replace(b"@@", b"caf\xe9@example.test"))

    corpus.extract(ORDERS)

    assert corpus.reasons(file) == {3: "invalid UTF-8 encoding"}
    assert corpus.loaded_ids(file) == ["u1", "u3"]
    corpus.assert_accounted()


@pytest.mark.parametrize("renamed", [False, True], ids=["missing", "renamed"])
def test_file_missing_a_required_column_is_quarantined_whole_naming_it(corpus, renamed: bool) -> None:
    header = [("amount_total" if renamed else "skip") if c == "total_amount" else c for c in ORDER_HEADER]
    rows = [order("m1"), order("m2")]
    for row in rows:
        value = row.pop("total_amount")
        if renamed:
            row["amount_total"] = value
    bad = corpus.write(f"{ORDERS}/bad.csv", csv_text(rows, [h for h in header if h != "skip"]))
    good = corpus.write(f"{ORDERS}/good.csv", csv_text([order("g1")], ORDER_HEADER))

    files = corpus.extract(ORDERS)

    assert set(corpus.reasons(bad).values()) == {"file is missing required column(s): total_amount"}
    assert sorted(corpus.reasons(bad)) == [2, 3]
    assert (files[bad]["rows_loaded"], files[bad]["rows_quarantined"]) == (0, 2)
    assert corpus.loaded_ids(good) == ["g1"]
    corpus.assert_accounted()


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"], ids=["empty", "blank_lines", "bom_only"])
def test_empty_file_is_logged_with_zero_rows(corpus, content: bytes) -> None:
    file = corpus.write(f"{ORDERS}/empty.csv", content)
    good = corpus.write(f"{ORDERS}/good.csv", csv_text([order("g1")], ORDER_HEADER))

    files = corpus.extract(ORDERS)

    assert (files[file]["status"], files[file]["rows_in"]) == ("loaded", 0)
    assert corpus.rows("select rows_in from raw._deliveries where file = ?", [file]) == [(0,)]
    assert corpus.loaded_ids(good) == ["g1"]
    corpus.assert_accounted()


@pytest.mark.parametrize("newline", ["\n", "\r\n", ""], ids=["lf", "crlf", "no_newline"])
def test_header_only_file_loads_zero_rows(corpus, newline: str) -> None:
    file = corpus.write(f"{ORDERS}/header.csv", ",".join(ORDER_HEADER) + newline)

    files = corpus.extract(ORDERS)

    assert (files[file]["rows_in"], files[file]["rows_loaded"], files[file]["rows_quarantined"]) == (0, 0, 0)
    corpus.assert_accounted()


ACCENTED = [order("e1", email="josé.müller@example.test"), order("e2", email="ångström@example.test")]


@pytest.mark.parametrize(("encoding", "prefix", "reported"), [
    ("latin-1", b"", "windows-1252"),
    ("cp1252", b"", "windows-1252"),
    ("utf-16", b"", "utf-16"),
    ("utf-16-le", b"", "utf-16-le"),
    ("utf-16-be", b"", "utf-16-be"),
    ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
], ids=["latin1", "cp1252", "utf16_bom", "utf16le_no_bom", "utf16be_no_bom", "utf8_bom"])
def test_other_encodings_are_transcoded_and_every_row_loads(corpus, encoding, prefix, reported) -> None:
    corpus.write(f"{ORDERS}/enc.csv", prefix + csv_text(ACCENTED, ORDER_HEADER).encode(encoding))

    [result] = corpus.extract(ORDERS).values()

    assert result["encoding"] == reported
    assert corpus.rows("select order_id, email from raw.shop__orders order by _line") == [
        (o["order_id"], o["email"]) for o in ACCENTED]
    assert result["rows_loaded"] == 2
    corpus.assert_accounted()


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


NOT_CSV = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file: binary content, looks like a PNG image"),
    "excel": (_xlsx(), "not a CSV file: binary content, looks like a ZIP archive (an Excel workbook?)"),
    "gzip": (gzip.compress(b"order_id\n1\n"), "not a CSV file: binary content, looks like a gzip archive"),
    "pdf": (b"%PDF-1.7\n...", "not a CSV file: binary content, looks like a PDF document"),
    "html": (b"<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n",
             "not a CSV file: looks like HTML/XML (starts with '<!DOCTYPE html>')"),
    "json_array": (json.dumps([order("j1")]).encode(), "file is missing required column(s): order_id, ordered_at, "
                   "total_amount"),
}


@pytest.mark.parametrize("kind", NOT_CSV)
def test_a_file_that_is_not_csv_is_quarantined_whole_and_other_files_load(corpus, kind: str) -> None:
    content, reason = NOT_CSV[kind]
    bad = corpus.write(f"{ORDERS}/a_{kind}.csv", content)
    good = corpus.write(f"{ORDERS}/b_good.csv", csv_text([order("g1")], ORDER_HEADER))

    files = corpus.extract(ORDERS)

    assert set(corpus.reasons(bad).values()) == {reason}
    assert files[bad]["rows_loaded"] == 0 and files[bad]["rows_quarantined"] >= 1
    assert corpus.loaded_ids(good) == ["g1"]
    corpus.assert_accounted()


GIGANTIC = 10_000_000


def test_gigantic_csv_field_quarantines_its_row_quickly(corpus) -> None:
    rows = [order("big-a"), order("big-b", email="x" * GIGANTIC), order("big-c")]
    file = corpus.write(f"{ORDERS}/big.csv", csv_text(rows, ORDER_HEADER))

    start = time.monotonic()
    corpus.extract(ORDERS)

    assert time.monotonic() - start < 60
    [(line, reason)] = corpus.reasons(file).items()
    assert line == 3 and reason.startswith("line too long: Maximum line size")
    [(record_length,)] = corpus.rows("select length(record) from raw.quarantine")
    assert record_length <= 10_000
    assert corpus.loaded_ids(file) == ["big-a", "big-c"]
    corpus.assert_accounted()


def test_gigantic_jsonl_field_loads_whole(corpus) -> None:
    rows = [order("big-a"), order("big-b", email="x" * GIGANTIC), order("big-c")]
    file = corpus.write(f"{ORDERS}/big.jsonl", "".join(json.dumps(r) + "\n" for r in rows))

    corpus.extract(ORDERS)

    assert corpus.rows("select order_id, length(email) from raw.shop__orders order by _line") == [
        (r["order_id"], len(r["email"])) for r in rows]
    assert corpus.reasons(file) == {}
    corpus.assert_accounted()


def test_api_schema_drift_new_renamed_and_retyped_columns(corpus) -> None:
    """An API's JSON Lines export drifts across three deliveries: each is handled on its own."""
    base = [order("api-1"), order("api-2")]
    new_column = [order("api-3", loyalty_tier="gold"), order("api-4", loyalty_tier="silver")]
    renamed = [{**{k: v for k, v in order(f"api-r{i}").items() if k != "total_amount"}, "amount": "5"}
               for i in (1, 2)]
    renamed_optional = [{**{k: v for k, v in order("api-o1").items() if k != "email"}, "email_address": "o@x.test"}]
    retyped = [order("api-t1"), {**order("api-t2"), "total_amount": {"amount": "10.00", "currency": "EUR"}},
               {**order("api-t3"), "ordered_at": 1772373900}, {**order("api-t4"), "total_amount": 7.5}]
    files = {}
    for name, rows in [("1_base", base), ("2_new", new_column), ("3_renamed", renamed), ("4_retyped", retyped),
                       ("5_renamed_optional", renamed_optional)]:
        files[name] = corpus.write(f"{ORDERS}/{name}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))

    results = corpus.extract(ORDERS)

    assert corpus.rows("select order_id, loyalty_tier from raw.shop__orders where _file = ? order by _line",
                       [files["2_new"]]) == [("api-3", "gold"), ("api-4", "silver")]
    assert set(corpus.reasons(files["3_renamed"]).values()) == {
        "file is missing required column(s): total_amount"}
    assert results[files["3_renamed"]]["rows_quarantined"] == 2
    assert corpus.reasons(files["4_retyped"]) == {
        2: "total_amount: not a number '{\"amount\":\"10.00\",\"currency\":\"EUR\"}'",
        3: "ordered_at: unparseable timestamp '1772373900'",
    }
    assert corpus.loaded_ids(files["4_retyped"]) == ["api-t1", "api-t4"]
    assert corpus.loaded_ids(files["1_base"]) == ["api-1", "api-2"]
    assert results[files["2_new"]]["extra_columns"] == ("loyalty_tier",)
    assert results[files["5_renamed_optional"]]["extra_columns"] == ("email_address",)
    assert corpus.rows("select email, email_address from raw.shop__orders where order_id = 'api-o1'") == [
        (None, "o@x.test")]
    assert results[files["1_base"]]["extra_columns"] == ()
    corpus.assert_accounted()


@pytest.mark.parametrize("redelivery", [
    b"", b"order_id,customer_id\n", b"<html>upload failed</html>", b"order_id,ordered_at,total_amount\n",
    b"order_id,ordered_at,total_amount\no1,never,1\n",
], ids=["empty", "missing_columns", "html", "header_only", "every_row_bad"])
def test_redelivery_without_a_usable_row_keeps_the_previous_rows(corpus, redelivery: bytes) -> None:
    file = corpus.write(f"{ORDERS}/daily.csv", csv_text([order("o1"), order("o2")], ORDER_HEADER))
    corpus.extract(ORDERS, load_id="run1")
    corpus.write(f"{ORDERS}/daily.csv", redelivery)

    [result] = corpus.extract(ORDERS, load_id="run2").values()

    assert result["status"] == "loaded" and result["rows_loaded"] == 0
    assert corpus.loaded_ids(file) == ["o1", "o2"]
    assert corpus.rows("select count(*) from raw._deliveries where file = ?", [file]) == [(2,)]
    corpus.assert_accounted()
    corpus.write(f"{ORDERS}/daily.csv", csv_text([order("o3")], ORDER_HEADER))
    corpus.extract(ORDERS, load_id="run3")
    assert corpus.loaded_ids(file) == ["o3"]
    assert corpus.reasons(file) == {}


@pytest.mark.parametrize("separator", [";", "\t"], ids=["semicolon", "tab"])
def test_file_with_another_separator_is_quarantined_with_a_hint(corpus, separator: str) -> None:
    text = "\n".join(separator.join(line.split(",")) for line in [",".join(ORDER_HEADER), GOOD_BEFORE]) + "\n"
    file = corpus.write(f"{ORDERS}/excel.csv", text)

    corpus.extract(ORDERS)

    [reason] = set(corpus.reasons(file).values())
    assert reason.startswith("file is missing required column(s): order_id, ordered_at, total_amount (one header")
    assert reason.endswith("Mercator reads comma-separated files)")
    corpus.assert_accounted()


def test_messy_and_duplicate_header_names(corpus) -> None:
    """Names match the contract trimmed and case-insensitively; a repeated column: the first is used."""
    text = " Order_ID ,ORDERED_AT,total_amount,Total_Amount\no1,2026-03-01,10,999\n"
    file = corpus.write(f"{ORDERS}/messy.csv", text)

    [result] = corpus.extract(ORDERS).values()

    assert corpus.rows('select order_id, total_amount, "Total_Amount_2" from raw.shop__orders') == [
        ("o1", 10, "999")]
    assert result["extra_columns"] == ("Total_Amount_2",)
    assert corpus.reasons(file) == {}
    corpus.assert_accounted()
