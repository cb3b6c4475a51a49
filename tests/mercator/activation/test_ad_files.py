"""Google Customer Match and Meta Custom Audiences files: golden hashes, chunks, atomic reruns."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from mercator.activation.ad_files import GoogleCustomerMatchFiles, MetaCustomAudienceFiles
from mercator.activation.destination import ConfigError, Member

RUN, RERUN_SAME_DAY, NEXT_DAY = (
    "scheduled__2026-03-01T00:00:00+00:00",
    "manual__2026-03-01T14:30:00+00:00",
    "scheduled__2026-03-02T00:00:00+00:00",
)
AUDIENCE = "audience_high_value_seed"

# (email as the model has it, phone as staging normalised it) -> the hand-normalised forms
GOLDEN = [
    ("  Jane.Doe@Example.COM ", "+15550100001", "jane.doe@example.com", "+15550100001", "15550100001"),
    ("J.Smith+ads@GMail.com", "+442079460958", "j.smith+ads@gmail.com", "+442079460958", "442079460958"),
    ("\tÉlodie.Martin@Exemple.FR", " +33612345678 ", "élodie.martin@exemple.fr", "+33612345678", "33612345678"),
    ("ANA@example.com.br", "+5511987654321", "ana@example.com.br", "+5511987654321", "5511987654321"),
]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def member(key: str, email: str | None = None, phone: str | None = None) -> Member:
    return Member(key, {"email": email, "phone": phone, "first_name": "Jane"}, f"hash-{key}")


def google(tmp_path: Path, **options) -> GoogleCustomerMatchFiles:
    return GoogleCustomerMatchFiles.from_options({"directory": str(tmp_path), **options})


def meta(tmp_path: Path, **options) -> MetaCustomAudienceFiles:
    return MetaCustomAudienceFiles.from_options({"directory": str(tmp_path), **options})


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="ascii").splitlines()


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_capabilities():
    for cls, kind in (
        (GoogleCustomerMatchFiles, "google_customer_match"),
        (MetaCustomAudienceFiles, "meta_custom_audience"),
    ):
        assert (cls.kind, cls.channels, cls.identifier) == (kind, ("ads",), "email")
        assert not cls.delivers_messages and not cls.needs_connection


def test_golden_vectors_per_platform(tmp_path):
    members = [member(f"k{i}", email, phone) for i, (email, phone, *_) in enumerate(GOLDEN)]
    members += [member("email_only", "Only.Email@Example.org"), member("phone_only", phone="+4930123456")]

    outcomes = google(tmp_path).upsert(AUDIENCE, members, RUN) + meta(tmp_path).upsert(AUDIENCE, members, RUN)

    assert {(o.status, o.reason, o.remote_id) for o in outcomes} == {("delivered", "", None)}
    folder = tmp_path / AUDIENCE
    assert lines(folder / "google_customer_match" / "2026-03-01_add_1.csv") == [
        "Email,Phone",
        *(f"{sha(email)},{sha(e164)}" for *_, email, e164, _ in GOLDEN),
        f"{sha('only.email@example.org')},",
        f",{sha('+4930123456')}",
    ]
    assert lines(folder / "meta_custom_audience" / "2026-03-01_add_1.csv") == [
        "EMAIL,PHONE",
        *(f"{sha(email)},{sha(digits)}" for *_, email, _, digits in GOLDEN),
        f"{sha('only.email@example.org')},",
        f",{sha('4930123456')}",
    ]
    # and a few digests written out (from coreutils' sha256sum), so the test does not only agree with itself
    assert sha("jane.doe@example.com") == "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"
    assert sha("+15550100001") == "bfb65de6e0f430140757d752965feeb68271d9705b29802200b78e91a420db8d"
    assert sha("15550100001") == "e4c8fb8bb5fa41dd884af1a99af131200b735da16b5a821fccbb20e04b8aaffa"
    assert sha("+442079460958") == "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d"
    assert sha("442079460958") == "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823"


def test_no_raw_identifier_or_at_sign_in_any_file(tmp_path):
    people = [(f"  Person.{i}@Example.com ", f"+1555010{i:04d}") for i in range(200)]
    people += [(email, phone) for email, phone, *_ in GOLDEN]
    members = [member(f"k{i}", email, phone) for i, (email, phone) in enumerate(people)]
    for destination in (google(tmp_path), meta(tmp_path, chunk_size=50)):
        destination.upsert(AUDIENCE, members[:150], RUN)
        destination.remove(AUDIENCE, members[150:], NEXT_DAY)
        destination.erase(members[:3])

    written = b"".join(snapshot(tmp_path).values()).decode("ascii")
    assert len(snapshot(tmp_path)) > 4
    assert "@" not in written
    for email, phone in people:
        for raw in (email, email.strip(), email.strip().lower(), phone.strip(), phone.strip().lstrip("+")):
            assert raw not in written


def test_meta_files_hold_at_most_10000_rows_and_google_one_file(tmp_path):
    members = [member(f"k{i:05d}", f"p{i}@example.com") for i in range(25_001)]

    meta(tmp_path).upsert(AUDIENCE, members, RUN)
    google(tmp_path).upsert(AUDIENCE, members, RUN)

    meta_files = sorted((tmp_path / AUDIENCE / "meta_custom_audience").iterdir())
    assert [p.name for p in meta_files] == [f"2026-03-01_add_{n}.csv" for n in (1, 2, 3)]
    assert [len(lines(p)) - 1 for p in meta_files] == [10_000, 10_000, 5_001]
    assert all(lines(p)[0] == "EMAIL,PHONE" for p in meta_files)
    google_files = list((tmp_path / AUDIENCE / "google_customer_match").iterdir())
    assert [p.name for p in google_files] == ["2026-03-01_add_1.csv"]
    assert len(lines(google_files[0])) == 25_002


def test_batches_of_a_run_date_accumulate_and_a_rerun_rewrites_identical_bytes(tmp_path):
    members = [member(f"k{i:02d}", f"p{i}@example.com", f"+1555010{i:04d}") for i in range(25)]
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    for batch in (members[:10], members[10:20], members[20:]):
        meta(clean, chunk_size=7).upsert(AUDIENCE, batch, RUN)
    meta(clean, chunk_size=7).remove(AUDIENCE, [member("gone", "gone@example.com")], RUN)
    first = snapshot(clean)

    for batch in (members[:10], members[10:20], members[20:]):  # the whole run again, from a new instance
        meta(clean, chunk_size=7).upsert(AUDIENCE, batch, RERUN_SAME_DAY)
    meta(clean, chunk_size=7).remove(AUDIENCE, [member("gone", "gone@example.com")], RERUN_SAME_DAY)
    meta(crashed, chunk_size=7).upsert(AUDIENCE, members[:10], RUN)  # killed after its first batch
    for batch in (members[:10], members[10:20], members[20:]):
        meta(crashed, chunk_size=7).upsert(AUDIENCE, batch, RUN)
    meta(crashed, chunk_size=7).remove(AUDIENCE, [member("gone", "gone@example.com")], RUN)

    assert snapshot(clean) == first == snapshot(crashed)
    assert [name.split("/")[-1] for name in first] == [
        *(f"2026-03-01_add_{n}.csv" for n in (1, 2, 3, 4)),
        "2026-03-01_remove_1.csv",
    ]
    assert sum(len(text.splitlines()) - 1 for name, text in first.items() if "_add_" in name) == 25


def test_removals_go_to_remove_files_and_cancel_an_add_of_the_same_day(tmp_path):
    stays, leaves, left_earlier = (
        member("stays", "stays@example.com"),
        member("leaves", "leaves@example.com"),
        member("earlier", phone="+15550100009"),
    )
    destination = google(tmp_path)
    destination.upsert(AUDIENCE, [stays, leaves], RUN)

    outcomes = destination.remove(AUDIENCE, [leaves, left_earlier], RUN)

    folder = tmp_path / AUDIENCE / "google_customer_match"
    assert [o.status for o in outcomes] == ["delivered", "delivered"]
    assert lines(folder / "2026-03-01_add_1.csv") == ["Email,Phone", f"{sha('stays@example.com')},"]
    assert lines(folder / "2026-03-01_remove_1.csv") == [
        "Email,Phone",
        f"{sha('leaves@example.com')},",
        f",{sha('+15550100009')}",
    ]
    destination.upsert(AUDIENCE, [leaves], RUN)  # came back the same day
    assert lines(folder / "2026-03-01_remove_1.csv") == ["Email,Phone", f",{sha('+15550100009')}"]
    assert len(lines(folder / "2026-03-01_add_1.csv")) == 3


def test_erase_removes_people_from_every_audience_and_every_add_file(tmp_path):
    jane, other = member("jane", "jane@example.com", "+15550100001"), member("other", "other@example.com")
    destination = meta(tmp_path)
    destination.upsert(AUDIENCE, [jane, other], RUN)
    destination.upsert("audience_lookalike_seed", [jane], NEXT_DAY)

    outcomes = destination.erase([member("jane-erased", phone="+15550100001"), member("nobody")])

    assert [(o.status, o.reason) for o in outcomes] == [("delivered", ""), ("rejected", "no email or phone")]
    jane_row, phone_only_row = f"{sha('jane@example.com')},{sha('15550100001')}", f",{sha('15550100001')}"
    for audience in (AUDIENCE, "audience_lookalike_seed"):
        folder = tmp_path / audience / "meta_custom_audience"
        (removal,) = folder.glob("*_remove_1.csv")
        assert lines(removal)[1:] == [jane_row, phone_only_row]
        assert all(jane_row not in p.read_text() for p in folder.glob("*_add_*.csv"))
    assert lines(tmp_path / AUDIENCE / "meta_custom_audience" / "2026-03-01_add_1.csv")[1:] == [
        f"{sha('other@example.com')},"
    ]
    assert not list((tmp_path / "audience_lookalike_seed" / "meta_custom_audience").glob("*_add_*.csv"))


def test_members_without_a_usable_email_or_phone_are_rejected(tmp_path):
    members = [
        member("none"),
        member("blank", "   ", ""),
        member("bad_email", "not-an-address"),
        member("bad_phone", phone="555 010 0001"),
        member("bad_phone_good_email", "ok@example.com", "(555) 010-0001"),
    ]

    outcomes = google(tmp_path).upsert(AUDIENCE, members, RUN)

    assert [(o.customer_key, o.status, o.reason) for o in outcomes] == [
        ("none", "rejected", "no email or phone"),
        ("blank", "rejected", "no email or phone"),
        ("bad_email", "rejected", "email is not an address"),
        ("bad_phone", "rejected", "phone is not E.164"),
        ("bad_phone_good_email", "delivered", "phone is not E.164 (left out)"),
    ]
    assert lines(tmp_path / AUDIENCE / "google_customer_match" / "2026-03-01_add_1.csv") == [
        "Email,Phone",
        f"{sha('ok@example.com')},",
    ]


def test_options_are_validated_and_directory_resolved_against_the_reports_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("MERCATOR_REPORTS", str(tmp_path / "reports"))
    assert GoogleCustomerMatchFiles.from_options({}).config.directory == tmp_path / "reports" / "ad_audiences"
    assert meta(Path("mine")).config.directory == tmp_path / "reports" / "mine"
    assert meta(tmp_path / "abs").config.directory == tmp_path / "abs"
    assert meta(tmp_path, chunk_size=10_000).config.chunk_size == 10_000
    for cls, options in (
        (GoogleCustomerMatchFiles, {"chunk_size": 100}),
        (GoogleCustomerMatchFiles, {"list_name": "x"}),
        (MetaCustomAudienceFiles, {"chunk_size": 10_001}),
        (MetaCustomAudienceFiles, {"chunk_size": 0}),
        (MetaCustomAudienceFiles, {"chunk_size": "500"}),
        (MetaCustomAudienceFiles, {"directory": 5}),
    ):
        with pytest.raises(ConfigError):
            cls.from_options(options)
    with pytest.raises(ConfigError, match="audience name"):
        google(tmp_path).upsert("../elsewhere", [member("k", "a@example.com")], RUN)


def test_a_failed_write_leaves_the_previous_file_whole_and_no_temp_file(tmp_path, monkeypatch):
    destination = google(tmp_path)
    destination.upsert(AUDIENCE, [member("a", "a@example.com")], RUN)
    path = tmp_path / AUDIENCE / "google_customer_match" / "2026-03-01_add_1.csv"
    before = path.read_bytes()

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        destination.upsert(AUDIENCE, [member("b", "b@example.com")], RUN)

    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
