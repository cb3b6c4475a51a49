"""docs/data-contract.md lists every entity, key and column of contract.py, so the two cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mercator import contract

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def _entity_rows() -> dict[str, list[str]]:
    """`source/entity` -> the cells (key, columns) of its row in the Entities table."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = re.match(r"\| `([a-z_]+/[a-z_]+)` \|(.*)\|$", line)
        if found:
            rows[found[1]] = [cell.strip() for cell in found[2].split("|")]
    return rows


def _names(text: str) -> list[str]:
    """Column names as written in a cell: words, with a leading `*` when required."""
    return re.findall(r"\*?\b\w+\b", text)


def test_the_doc_lists_exactly_the_contract_entities() -> None:
    assert sorted(_entity_rows()) == sorted(e.path for e in contract.ENTITIES)


@pytest.mark.parametrize("entity", contract.ENTITIES, ids=lambda e: e.path)
def test_every_column_key_and_accepted_value_is_in_the_doc(entity: contract.Entity) -> None:
    key, columns = _entity_rows()[entity.path]
    written = _names(columns)
    for column in entity.columns:
        marked = f"*{column.name}" if column.required else column.name
        assert marked in written, f"{entity.path}: {marked} missing (a `*` marks required columns)"
        assert all(value in written for value in column.accepted), f"{entity.path}.{column.name} values"
    assert set(_names(key)) >= set(entity.key), f"{entity.path}: key"
    if entity.one_of:
        assert "at least one" in columns, f"{entity.path}: say that one of {entity.one_of} is needed"
