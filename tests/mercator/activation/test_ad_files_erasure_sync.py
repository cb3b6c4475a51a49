"""An erasure request takes the person out of every ad-audience file on the next sync, through the engine."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from mercator.activation.runner import activate_all

from tests.mercator.activation.engine_fixtures import CUSTOMERS, build_warehouse, manifest, opener

ADS = {"channel": "ads", "mode": "mirror", "holdout_share": 0.0, "fields": {"email": "email", "phone": "phone"},
       "destinations": [{"type": "google_customer_match"}, {"type": "meta_custom_audience"}]}
DAY1, DAY2 = "scheduled__2026-03-01T00:00:00+00:00", "scheduled__2026-03-02T00:00:00+00:00"
# k04's identifiers hashed as each platform normalises them (Google: E.164 with '+', Meta: digits)
K04 = {hashlib.sha256(text.encode()).hexdigest() for text in ("p4@example.com", "+15550100004", "15550100004")}


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("MERCATOR_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setattr("mercator.activation.runner.frequency_caps", lambda _: {})
    path = build_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("alter table marts.dim_customers add column ads_consent varchar default 'granted'")
    return path


def sync(tmp_path, warehouse, run_id) -> dict[str, dict]:
    summaries = activate_all(opener(warehouse), manifest(tmp_path / "manifest.json", ADS), run_id,
                             tmp_path / "reports", tmp_path, tmp_path)
    return {s["destination"]: s for s in summaries}


def hashes_in(files) -> set[str]:
    return {cell for f in files for line in f.read_text().splitlines()[1:] for cell in line.split(",") if cell}


def test_an_erased_person_leaves_every_add_file_and_is_listed_for_removal(tmp_path, warehouse):
    folder = tmp_path / "reports" / "ad_audiences" / "audience_everyone"
    first = sync(tmp_path, warehouse, DAY1)
    # every customer has a valid phone and ads consent: everyone is in both files
    assert {d: s["delivered"] for d, s in first.items()} == dict.fromkeys(
        ("google_customer_match", "meta_custom_audience"), CUSTOMERS)
    assert K04 <= hashes_in(folder.rglob("*_add_*.csv")), "k04 is in the files before the erasure"

    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table intermediate.int_erasure_requests as select 'r1' as request_id,"
                    " timestamp '2026-03-02' as requested_at, 'k04' as customer_key")
    second = sync(tmp_path, warehouse, DAY2)

    assert {d: s["erased"] for d, s in second.items()} == {"google_customer_match": 1, "meta_custom_audience": 1}
    assert not K04 & hashes_in(folder.rglob("*_add_*.csv"))
    for kind in ("google_customer_match", "meta_custom_audience"):
        assert K04 & hashes_in((folder / kind).glob("*_remove_*.csv")), kind
    with duckdb.connect(str(warehouse), read_only=True) as con:
        states = set(con.execute("select status from activation.sync_state where customer_key = 'k04'").fetchall())
        text = str([con.execute(f"select * from activation.{t}").fetchall() for t in ("sync_state", "sync_runs")])
    assert states == {("erased",)}
    assert "@" not in text and "5550100004" not in text
