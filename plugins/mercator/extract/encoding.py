"""Turn a text delivery's bytes into UTF-8 that DuckDB can read, or say why it cannot be read.

- UTF-16 (BOM, or NUL bytes at every other position) is transcoded to UTF-8.
- Bytes that are not valid UTF-8 and hold no valid multi-byte UTF-8 sequence at all are read as
  Windows-1252 (Latin-1 when 1252 cannot decode them) and transcoded.
- Bytes that mix valid multi-byte UTF-8 with invalid sequences stay as they are: the reader
  quarantines the invalid lines ("invalid UTF-8 encoding").
- Binary content (NUL bytes, known magic numbers) and markup (HTML/XML) are unreadable.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

SNIFF_BYTES = 8192
DECODE_CHUNK_BYTES = 1 << 24
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
INVALID_UTF8_REASON = "invalid UTF-8 encoding"


class UnreadableFile(Exception):
    """The whole file cannot be read as a table; the message is the quarantine reason."""


@dataclass(frozen=True)
class Utf8Text:
    data: bytes
    encoding: str
    has_invalid_lines: bool


def _check_utf8(data: bytes) -> None:
    """Raise UnicodeDecodeError unless `data` is valid UTF-8, decoding a chunk at a time (a
    whole-file decode would hold a second copy of a large delivery)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(view), DECODE_CHUNK_BYTES):
        decoder.decode(view[start:start + DECODE_CHUNK_BYTES])
    decoder.decode(b"", final=True)


def to_utf8(data: bytes, kind: str) -> Utf8Text:
    """Classify and, when needed, transcode a text delivery (`kind` names the format in reasons)."""
    head = data[:SNIFF_BYTES]
    if head.startswith(UTF16_BOMS) or _looks_like_bomless_utf16(head):
        return _transcode(data, "utf-16" if head.startswith(UTF16_BOMS) else _utf16_order(head))
    _reject_non_text(head, kind)
    try:
        _check_utf8(data)
    except UnicodeDecodeError:
        if VALID_MULTIBYTE_UTF8.search(data):
            return Utf8Text(data, "utf-8", has_invalid_lines=True)
        try:
            return _transcode(data, "windows-1252")
        except UnreadableFile:
            return _transcode(data, "latin-1")
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    return Utf8Text(data, encoding, has_invalid_lines=False)


def _transcode(data: bytes, encoding: str) -> Utf8Text:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"invalid {encoding} encoding at byte {exc.start}") from None
    return Utf8Text(text.lstrip("\ufeff").encode("utf-8"), encoding, has_invalid_lines=False)


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
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if first.startswith(b"<"):
        preview = first.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
        raise UnreadableFile(f"not a {kind} file: looks like HTML/XML (starts with {preview!r})")


def blank_invalid_lines(data: bytes) -> tuple[bytes, list[int]]:
    """Replace lines that are not valid UTF-8 by empty lines; return the data and those line numbers."""
    lines = data.split(b"\n")
    bad = []
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
            lines[number - 1] = b""
    return b"\n".join(lines), bad
