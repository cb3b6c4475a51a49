"""Extract reads a delivery a chunk at a time: results do not depend on where chunks end, and Python
never holds a whole file (chunks.CHUNK_BYTES is shrunk so that small files span many chunks)."""

import json
import random
import tracemalloc
from pathlib import Path

import pytest
from mercator.extract import chunks
from mercator.extract.encoding import UnreadableFile, _transcode, to_utf8
from mercator.extract.lines import unquoted_line_count

from .conftest import csv_text, quarantine, rows
from .test_csv_lines import random_csv, record_start_lines

ORDERS = "shop/orders"
HEADER = ["order_id", "ordered_at", "total_amount", "email"]


def orders(n: int, email: str = "a@x.com") -> list[list[str]]:
    return [[f"o{i}", "2026-03-01T10:00:00Z", "1.00", email] for i in range(n)]


@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_a_character_across_a_chunk_boundary_is_valid_utf8_read_in_place(tmp_path, monkeypatch, char) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 16)
    encoded = char.encode()
    for cut in range(1, len(encoded)):
        path = tmp_path / "d.csv"
        path.write_bytes(b"x" * (16 - cut) + encoded + b"\n")

        text = to_utf8(path, "CSV", tmp_path)

        assert (text.path, text.encoding, text.has_invalid_lines) == (path, "utf-8", False)


def test_the_only_multibyte_character_across_a_boundary_keeps_the_file_utf8(con, write, load, monkeypatch) -> None:
    good = csv_text(HEADER, [["o1", "2026-03-01", "1", "zoë"]]).encode()
    monkeypatch.setattr(chunks, "CHUNK_BYTES", good.index("ë".encode()) + 1)
    write("shop/orders/d1.csv", good + b"o2,2026-03-01,1,caf\xe9\n")

    [file] = load(ORDERS).files

    assert file.encoding == "utf-8"
    assert quarantine(con, "shop/orders/d1.csv") == {3: "invalid UTF-8 encoding"}
    assert rows(con, "select email from raw.shop__orders") == [("zoë",)]


def test_a_bad_byte_after_the_first_chunk_is_reported_at_its_file_offset(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 1024)
    path = tmp_path / "d.csv"
    path.write_bytes(b"caf\xe9\n" * 300 + b"\x81\n")  # 0x81 is not Windows-1252, at byte 1500: chunk 2

    with pytest.raises(UnreadableFile, match="^invalid windows-1252 encoding at byte 1500$"):
        _transcode(path, "windows-1252", tmp_path)


def test_windows_1252_over_many_chunks_is_transcoded_whole(con, write, load, monkeypatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 64)
    write("shop/orders/d1.csv", csv_text(HEADER, orders(50, "José Müller €")).encode("cp1252"))

    [file] = load(ORDERS).files

    assert (file.encoding, file.rows_loaded) == ("windows-1252", 50)
    assert rows(con, "select distinct email from raw.shop__orders") == [("José Müller €",)]


def test_utf16_in_odd_chunks_loads_every_row_without_its_bom(con, write, load, monkeypatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 7)  # every other character and the surrogate pairs straddle
    write("shop/orders/d1.csv", csv_text(HEADER, orders(20, "Zoë 😀")).encode("utf-16"))

    [file] = load(ORDERS).files

    assert (file.encoding, file.rows_loaded) == ("utf-16", 20)
    assert rows(con, "select distinct email from raw.shop__orders") == [("Zoë 😀",)]


def test_bad_utf16_after_the_first_chunk_is_quarantined_at_its_file_offset(con, write, load, monkeypatch) -> None:
    good = b"\xff\xfe" + csv_text(HEADER, orders(5)).encode("utf-16-le")
    monkeypatch.setattr(chunks, "CHUNK_BYTES", (len(good) + 2) // 2)  # chunk 2 ends with the lone surrogate
    write("shop/orders/d1.csv", good + "\ud800x\n".encode("utf-16-le", "surrogatepass"))

    load(ORDERS)

    assert quarantine(con, "shop/orders/d1.csv") == {None: f"invalid utf-16 encoding at byte {len(good)}"}


PLAIN = csv_text(HEADER, orders(20))


@pytest.mark.parametrize("chunk_bytes", [5, 64, len(PLAIN)])
def test_a_quoted_field_after_the_first_chunk_gives_physical_lines(con, write, load, monkeypatch,
                                                                    chunk_bytes: int) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    path = write("shop/orders/d1.csv", PLAIN + 'q1,2026-03-01,1,"multi\nline"\nq2,2026-03-01,1,a\n')

    [file] = load(ORDERS).files

    assert unquoted_line_count(path) is None
    assert rows(con, "select order_id, _line from raw.shop__orders where order_id like 'q%' order by 1") == [
        ("q1", 22), ("q2", 24)]
    assert file.rows_loaded == 22


@pytest.mark.parametrize("chunk_bytes", [13, 256])
def test_lines_do_not_depend_on_where_chunks_end(con, write, load, monkeypatch, chunk_bytes: int) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    text = random_csv(random.Random(11), 150)
    write("shop/orders/d1.csv", text)

    [file] = load(ORDERS).files

    lines = dict(rows(con, "select order_id, _line from raw.shop__orders"))
    lines |= {record.split(",")[0] if not record.startswith("{") else record.split('"')[3]: line
              for line, record in rows(con, "select line, record from raw.quarantine")}
    assert lines == record_start_lines(text)
    assert file.rows_quarantined > 0


BIG_BYTES = 50 << 20


def _write_big(landing: Path, kind: str) -> tuple[str, int]:
    """A delivery of just over 50 MB, written 1,000 rows at a time; its entity and good rows."""
    if kind == "jsonl_invalid_line":
        entity, path, header = "email/events", landing / "email/events/big.jsonl", b""
        line = json.dumps({"email": "zoë@x.com", "timestamp": 1772373900, "event": "open"}, ensure_ascii=False)
        block, tail, extra_good = ((line + "\n") * 1000).encode(), b"caf\xe9\n", 0
    else:
        entity, path, header = ORDERS, landing / "shop/orders/big.csv", (",".join(HEADER) + "\n").encode()
        tail, extra_good = (b'q1,2026-03-01,1,"x"\n', 1) if kind == "csv_quoted" else (b"", 0)
        encoding = "cp1252" if kind == "csv_windows_1252" else "utf-8"
        block = csv_text(HEADER, orders(1000, "josé@x.com")).encode(encoding).removeprefix(header)
    path.parent.mkdir(parents=True)
    good = extra_good
    with path.open("wb") as out:
        out.write(header)
        while out.tell() < BIG_BYTES:
            out.write(block)
            good += 1000
        out.write(tail)
    return entity, good


@pytest.mark.parametrize("kind", ["csv_quoted", "csv_windows_1252", "jsonl_invalid_line"])
def test_python_never_holds_a_whole_delivery(landing, load, monkeypatch, kind: str) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 1 << 20)
    entity, good = _write_big(landing, kind)

    tracemalloc.start()
    try:
        [file] = load(entity).files
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert file.rows_loaded == good
    assert peak < 10 << 20, f"{peak / 2**20:.1f} MiB of Python allocations for a {BIG_BYTES >> 20} MiB file"
