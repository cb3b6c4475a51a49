"""Find delivery files under the landing directory."""

from __future__ import annotations

import logging
from pathlib import Path

from mercator import contract

log = logging.getLogger(__name__)

NOT_SOURCES = {"truth"}


def discover(landing_dir: Path) -> dict[str, list[Path]]:
    """Every contract entity (`shop/orders`, ...) -> its delivery files, sorted; empty list when none.

    `truth/` is skipped; unknown folders and files of unknown formats are logged and ignored.
    """
    found: dict[str, list[Path]] = {e.path: [] for e in contract.ENTITIES}
    if not landing_dir.is_dir():
        log.warning("landing directory %s does not exist", landing_dir)
        return found
    for source_dir in sorted(p for p in landing_dir.iterdir() if p.is_dir()):
        if source_dir.name in NOT_SOURCES or source_dir.name.startswith("."):
            continue
        for entity_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            path = f"{source_dir.name}/{entity_dir.name}"
            if path not in found:
                log.warning("ignoring unknown landing folder %s (not in the data contract)", path)
                continue
            found[path] = delivery_files(entity_dir)
    return found


def delivery_files(entity_dir: Path) -> list[Path]:
    """Files of a supported format directly in an entity folder; hidden files skipped, others logged."""
    files = []
    for path in sorted(entity_dir.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lstrip(".").lower() in contract.FILE_FORMATS:
            files.append(path)
        else:
            log.warning("ignoring %s: not one of %s", path, ", ".join(contract.FILE_FORMATS))
    return files
