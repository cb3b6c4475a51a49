"""A delivery file read a chunk at a time: no pass over a file holds more than one chunk of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1 << 24


def file_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of `path`, `CHUNK_BYTES` at a time (no chunk is empty)."""
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk


def file_head(path: Path, size: int) -> bytes:
    """The first `size` bytes of `path` (fewer when it is shorter)."""
    with path.open("rb") as file:
        return file.read(size)
