"""Make a text delivery readable as UTF-8 by DuckDB, or say why it cannot be read.

- UTF-16 (BOM, or NUL bytes at every other position) is transcoded to a UTF-8 copy.
- Bytes that are not valid UTF-8 and hold no valid multi-byte UTF-8 sequence at all are read as
  Windows-1252 (Latin-1 when 1252 cannot decode them) and transcoded to a UTF-8 copy.
- Bytes that mix valid multi-byte UTF-8 with invalid sequences stay as they are: the reader
  quarantines the invalid lines ("invalid UTF-8 encoding").
- Binary content (NUL bytes, known magic numbers) and markup (HTML/XML) are unreadable.

UTF-8 files (with or without a BOM) are read where they are. Every pass over a file streams it a
chunk at a time (`chunks.CHUNK_BYTES`): a large delivery is never held in memory.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from mercator.extract.chunks import file_chunks, file_head

SNIFF_BYTES = 8192
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an Excel workbook?)",
    b"\x1f\x8b": "a gzip archive",
    b"PAR1": "a Parquet file",
    b"\xff\xd8\xff": "a JPEG image",
}
VALID_MULTIBYTE_UTF8 = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
MULTIBYTE_OVERLAP = 3
"""Bytes of a chunk searched again with the next one: a sequence (4 bytes at most) across the boundary."""
INVALID_UTF8_REASON = "invalid UTF-8 encoding"


class UnreadableFile(Exception):
    """The whole file cannot be read as a table; the message is the quarantine reason."""


@dataclass(frozen=True)
class Utf8Text:
    path: Path
    """The file to read: the delivery itself, or its UTF-8 copy."""
    encoding: str
    has_invalid_lines: bool


def to_utf8(path: Path, kind: str, workdir: Path) -> Utf8Text:
    """Classify and, when needed, transcode a text delivery into `workdir` (`kind` names the format in
    reasons)."""
    head = file_head(path, SNIFF_BYTES)
    if head.startswith(UTF16_BOMS) or _looks_like_bomless_utf16(head):
        return _transcode(path, "utf-16" if head.startswith(UTF16_BOMS) else _utf16_order(head), workdir)
    _reject_non_text(head, kind)
    if not _is_utf8(path):
        if _has_multibyte_utf8(path):
            return Utf8Text(path, "utf-8", has_invalid_lines=True)
        try:
            return _transcode(path, "windows-1252", workdir)
        except UnreadableFile:
            return _transcode(path, "latin-1", workdir)
    encoding = "utf-8-sig" if head.startswith(UTF8_BOM) else "utf-8"
    return Utf8Text(path, encoding, has_invalid_lines=False)


def _decoded(path: Path, encoding: str) -> Iterator[str]:
    """The text of `path`, a chunk at a time; UnreadableFile gives the file offset of the bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    read = 0
    for chunk in chain(file_chunks(path), [b""]):
        held = len(decoder.getstate()[0])  # bytes of the previous chunk decoded with this one
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"invalid {encoding} encoding at byte {read - held + exc.start}") from None
        read += len(chunk)
        yield text


def _is_utf8(path: Path) -> bool:
    try:
        for _ in _decoded(path, "utf-8"):
            pass
    except UnreadableFile:
        return False
    return True


def _has_multibyte_utf8(path: Path) -> bool:
    tail = b""
    for chunk in file_chunks(path):
        window = tail + chunk
        if VALID_MULTIBYTE_UTF8.search(window):
            return True
        tail = window[-MULTIBYTE_OVERLAP:]
    return False


def _transcode(path: Path, encoding: str, workdir: Path) -> Utf8Text:
    """Write the text of `path` to a UTF-8 copy in `workdir`, without its leading BOM."""
    copy = workdir / f"utf8{path.suffix}"
    leading = True
    with copy.open("w", encoding="utf-8", newline="") as out:
        for text in _decoded(path, encoding):
            if leading:
                text = text.lstrip("\ufeff")
                leading = not text
            out.write(text)
    return Utf8Text(copy, encoding, has_invalid_lines=False)


def _looks_like_bomless_utf16(head: bytes) -> bool:
    return len(head) >= 4 and b"\x00" in head and _utf16_order(head) != ""


def _utf16_order(head: bytes) -> str:
    even = head[: len(head) // 2 * 2]
    if not any(even[1::2]):
        return "utf-16-le"
    if not any(even[0::2]):
        return "utf-16-be"
    return ""


def _reject_non_text(head: bytes, kind: str) -> None:
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            raise UnreadableFile(f"not a {kind} file: binary content, looks like {what}")
    if b"\x00" in head:
        raise UnreadableFile(f"not a {kind} file: binary content (NUL bytes)")
    first = head.lstrip(UTF8_BOM + b" \t\r\n")
    if first.startswith(b"<"):
        preview = first.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
        raise UnreadableFile(f"not a {kind} file: looks like HTML/XML (starts with {preview!r})")


def blank_invalid_lines(source: Path, copy: Path) -> Iterator[tuple[int, bytes]]:
    """Copy `source` to `copy` line by line, lines that are not valid UTF-8 left empty; yield the number
    and bytes (without the newline) of each such line. The copy is complete once the iterator is."""
    with source.open("rb") as lines, copy.open("wb") as out:
        for number, line in enumerate(lines, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                yield number, line.removesuffix(b"\n")
                line = b"\n" if line.endswith(b"\n") else b""
            out.write(line)
