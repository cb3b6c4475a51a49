import logging
from pathlib import Path

from mercator import contract
from mercator.extract import discover


def test_discover_lists_every_entity_and_only_supported_files(landing: Path, write, caplog) -> None:
    write("shop/orders/b.csv", "x")
    write("shop/orders/a.jsonl", "x")
    write("shop/orders/c.parquet", b"x")
    write("shop/orders/notes.txt", "x")
    write("shop/orders/.hidden.csv", "x")
    write("truth/records.csv", "x")
    write("shop/unknown_entity/a.csv", "x")
    write("mystery/things/a.csv", "x")

    with caplog.at_level(logging.WARNING):
        found = discover(landing)

    assert set(found) == {e.path for e in contract.ENTITIES}
    assert [p.name for p in found["shop/orders"]] == ["a.jsonl", "b.csv", "c.parquet"]
    assert all(found[e.path] == [] for e in contract.ENTITIES if e.path != "shop/orders")
    assert "shop/unknown_entity" in caplog.text and "mystery/things" in caplog.text
    assert "notes.txt" in caplog.text
    assert "truth" not in caplog.text
