"""The history API, the same on a SQLite file, a PostgreSQL server and a desk of a server."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest

from banknote_guard.history.errors import HistoryError, RecordNotFoundError
from banknote_guard.history.records import NoteRecord, Review
from banknote_guard.history.store import History, open_history

STORES = ["sqlite", "postgresql", "station"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[History]:
    if request.param == "sqlite":
        h = open_history(tmp_path / "h.sqlite")
    else:
        url = request.getfixturevalue("pg_url")
        if request.param == "postgresql":
            from banknote_guard.history.server import ServerHistory

            h = ServerHistory(url)
        else:
            h = open_history(url, outbox=tmp_path / "outbox.sqlite")
    try:
        yield h
    finally:
        h.close()


def _events(store: History, n: int) -> int:
    """Events a chain check covers: a desk checks its outbox and the server, each holding ``n``."""
    return 2 * n if store.kind == "station" else n


def test_records_round_trip_with_pictures(store: History, make_record: Any) -> None:
    rec = make_record(1, reasons=["far from every denomination"], distances={"EUR/20": 0.123456789, "X/1": None})
    assert store.add(rec) is True
    got = store.get(rec.id)
    assert got.to_json() == {**rec.to_json(), "distances": {"EUR/20": 0.123456789, "X/1": None}}
    assert got.image == rec.image and got.note_image == rec.note_image
    bare = store.get(rec.id, with_images=False)
    assert bare.image is None and bare.note_image is None and bare.image_sha256 == rec.image_sha256
    assert store.find(rec.id[:8]).id == rec.id


def test_adding_again_is_harmless_and_a_different_record_with_the_same_id_is_refused(store: History,
                                                                                     make_record: Any) -> None:
    rec = make_record(2)
    assert store.add(rec) and store.add(rec) is False
    assert store.add_many([rec, make_record(3)]) == 1
    forged = make_record(2, verdict="suspect")
    forged.id, forged.created = rec.id, rec.created
    with pytest.raises(HistoryError, match="different record"):
        store.add(forged)
    assert store.get(rec.id).verdict == "genuine"
    report = store.verify_chain()
    assert report.ok and report.checked == _events(store, 2)


def test_query_filters_order_and_limits(store: History, make_record: Any) -> None:
    records = [make_record(i) for i in range(30)]
    store.add_many(records)
    everything = store.query(with_images=False)
    assert [r.id for r in everything] == [r.id for r in sorted(records, key=lambda r: (r.created, r.id))]
    assert {r.id for r in store.query(batch="batch-1")} == {r.id for r in records[10:20]}
    suspects = store.query(verdict="suspect", with_images=False)
    assert suspects and all(r.verdict == "suspect" for r in suspects)
    not_genuine = store.query(verdict=["suspect", "uncertain", "unknown"], with_images=False)
    assert len(not_genuine) == sum(r.verdict != "genuine" for r in records)
    assert all(r.denomination == "EUR/50" for r in store.query(denomination="EUR/50"))
    span = store.query(since="2026-06-01T09:00Z", until=dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc))
    assert {r.id for r in span} == {r.id for r in records[10:20]}
    assert store.query(since="2026-06-01T11:00+02:00") == store.query(since="2026-06-01T09:00:00")
    latest = store.query(limit=5, newest_first=True, with_images=False)
    assert [r.id for r in latest] == [r.id for r in everything[::-1][:5]]
    assert store.query(operator="Nobody") == []
    assert store.values("denomination") == ["EUR/20", "EUR/50", "KRT/10"]
    assert store.values("batch") == ["batch-0", "batch-1", "batch-2"]
    with pytest.raises(HistoryError, match="not a date"):
        store.query(since="yesterday")
    with pytest.raises(HistoryError, match="Unknown verdict"):
        store.query(verdict="fake")


def test_batches_count_verdicts_per_batch(store: History, make_record: Any) -> None:
    store.add_many([make_record(i) for i in range(25)])
    batches = store.batches()
    assert [b.id for b in batches] == ["batch-0", "batch-1", "batch-2"]
    first = batches[0]
    assert first.count == 10 and first.station == "desk-1" and first.operator == "Ann"
    assert sum(first.verdicts.values()) == 10 and first.verdicts["suspect"] == 2
    assert first.first < first.last
    assert [b.id for b in store.batches(since="2026-06-01T10:00Z")] == ["batch-2"]


def test_reviews_are_events_and_never_change_the_verdict(store: History, make_record: Any) -> None:
    rec = make_record(1)
    store.add(rec)
    store.review(Review(record_id=rec.id, decision="confirmed", reviewer="Bob", handover_ref="POL-7",
                        serial_number="XA123", comment="brought by a customer"))
    store.review(Review(record_id=rec.id, decision="released", reviewer="Chief"))
    reviews = store.reviews(rec.id)
    assert [(r.decision, r.reviewer) for r in reviews] == [("confirmed", "Bob"), ("released", "Chief")]
    assert reviews[0].handover_ref == "POL-7" and reviews[0].serial_number == "XA123"
    assert store.get(rec.id).verdict == "suspect"
    assert len(store.reviews()) == 2
    with pytest.raises(RecordNotFoundError):
        store.review(Review(record_id="00000000-0000-4000-8000-000000000000", decision="confirmed", reviewer="x"))
    with pytest.raises(HistoryError, match="confirmed"):
        store.review(Review(record_id=rec.id, decision="maybe", reviewer="x"))  # type: ignore[arg-type]
    assert store.verify_chain().checked == _events(store, 3)


def test_bad_records_get_one_readable_error(store: History, make_record: Any) -> None:
    for bad, match in (({"batch": "  "}, "needs a batch"), ({"verdict": "fine"}, "Unknown verdict"),
                       ({"source": "fax"}, "Unknown source"), ({"id": "not-a-uuid"}, "not a UUID"),
                       ({"created": "noon"}, "not a date"), ({"image_sha256": "xyz"}, "SHA-256")):
        with pytest.raises(HistoryError, match=match):
            store.add(make_record(1, **bad))
    with pytest.raises(RecordNotFoundError):
        store.get("00000000-0000-4000-8000-000000000000")
    with pytest.raises(RecordNotFoundError, match="first 4 characters"):
        store.find("z!")
    assert store.query() == []


def test_non_finite_numbers_are_stored_as_missing(store: History, make_record: Any) -> None:
    rec = make_record(1, counterfeit_score=float("nan"), threshold=float("inf"), distances={"A/1": float("nan")})
    store.add(rec)
    got = store.get(rec.id)
    assert got.counterfeit_score is None and got.threshold is None and got.distances == {"A/1": None}
    assert store.verify_chain().ok


def test_sqlite_settings_and_append_only_triggers(tmp_path: Path, make_record: Any) -> None:
    path = tmp_path / "h.sqlite"
    with open_history(path) as h:
        h.add(make_record(1))
        conn = h._conn  # noqa: SLF001 - the pragmas of the history's own connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert h.schema_version() == 1 and h.integrity_check() is None
    raw = sqlite3.connect(path)
    for sql in ("UPDATE records SET verdict = 'genuine'", "DELETE FROM records", "DELETE FROM events",
                "UPDATE events SET payload = '{}'", "DELETE FROM blobs"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(sql)
    raw.close()


def test_default_location_is_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_record: Any) -> None:
    monkeypatch.setenv("BANKNOTE_GUARD_DATA_DIR", str(tmp_path / "data"))
    with open_history() as h:
        h.add(make_record(1))
        assert h.location == str(tmp_path / "data" / "history.sqlite")
    assert (tmp_path / "data" / "history.sqlite").is_file()


def test_a_damaged_file_is_moved_aside_and_reported_never_replaced(tmp_path: Path, make_record: Any) -> None:
    from banknote_guard.history.errors import HistoryDamagedError

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all " * 200)
    with pytest.raises(HistoryDamagedError) as info:
        open_history(garbage)
    assert not garbage.exists() and info.value.aside.read_bytes().startswith(b"this is not a database")

    path = tmp_path / "h.sqlite"
    with open_history(path) as h:
        h.add_many([make_record(i, image=bytes(range(256)) * 64) for i in range(40)])
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = raw.execute("PRAGMA page_size").fetchone()[0]
    root = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'records_created'").fetchone()[0]
    raw.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page : (root - 1) * page + 64] = b"\xff" * 64  # wreck an index page's header
    path.write_bytes(bytes(data))
    with pytest.raises(HistoryDamagedError, match="moved to") as info:
        open_history(path)
    assert info.value.aside.read_bytes() == bytes(data)  # kept, byte for byte
    with open_history(path) as fresh:  # a new, empty history starts in its place
        assert fresh.query() == []


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    from banknote_guard.history.errors import HistoryVersionError

    path = tmp_path / "h.sqlite"
    open_history(path).close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    with pytest.raises(HistoryVersionError, match="newer version"):
        open_history(path)
    assert path.read_bytes() == before


def test_a_file_on_a_network_share_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from banknote_guard.history import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "network_filesystem", lambda path: "nfs4")
    with pytest.raises(HistoryError, match="network share .nfs4.*local disk"):
        open_history(tmp_path / "h.sqlite")
    assert not (tmp_path / "h.sqlite").exists()


def test_network_filesystems_are_recognised_from_the_mount_table(tmp_path: Path) -> None:
    from banknote_guard.history.location import network_filesystem, redact

    assert network_filesystem(tmp_path) is None  # the test machine's temporary folder is local
    assert redact("postgresql://ann:s3cret@db.example/history") == "postgresql://ann:***@db.example/history"
    assert redact("postgresql://db.example/history") == "postgresql://db.example/history"


def test_an_unwritable_place_gets_a_readable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="folder of the history"):
        open_history(blocker / "h.sqlite")
    folder = tmp_path / "a_folder"
    folder.mkdir()
    with pytest.raises(HistoryError, match="Could not open"):
        open_history(folder)


def test_records_keep_fields_added_later(tmp_path: Path, make_record: Any) -> None:
    from banknote_guard.history import rows

    rec: NoteRecord = make_record(1)
    row, _ = rows.record_row(rec)
    assert set(rows.RECORD_COLUMNS) == set(row)
    assert rows.utc_text("2026-06-01") == "2026-06-01T00:00:00.000000+00:00"
    assert rows.utc_text("2026-06-01T10:00+02:00") == "2026-06-01T08:00:00.000000+00:00"


def test_why_suspect_regions_and_heat_map_are_kept(store: History, make_record: Any) -> None:
    """A suspect note's regions and heat map travel with its record (the reports draw them later)."""
    regions = [{"score": 6.8, "box": [192, 32, 224, 64], "box_fraction": [0.75, 0.25, 0.875, 0.5],
                "name": "security thread"}]
    heat = [[0.5, 1.25, None, 6.8], [0.1, 0.2, 0.3, 0.4]]
    rec = make_record(7, verdict="suspect", regions=regions, heatmap=heat)
    plain = make_record(8)
    assert store.add_many([rec, plain]) == 2
    got = store.get(rec.id)
    assert got.regions == regions and got.heatmap == heat
    assert got.to_json() == rec.to_json()
    old = store.get(plain.id)
    assert old.regions == [] and old.heatmap is None
    assert store.verify_chain().ok


def test_a_result_s_heat_map_is_stored_as_plain_numbers() -> None:
    import numpy as np

    from banknote_guard.verify.result import VerificationResult

    res = VerificationResult(path="n.jpg", verdict="suspect", denomination="KRT/10", counterfeit_score=5.0,
                             threshold=3.0, heatmap=np.array([[1.23456, np.nan], [np.inf, 7.0]], np.float32),
                             regions=[{"score": float("nan"), "box": [0, 0, 32, 32], "box_fraction": [0, 0, 1.5, 0.5],
                                       "name": "numeral"}])
    rec = NoteRecord.from_result(res, batch="b", station="s", operator="o")
    assert rec.heatmap == [[1.23, None], [None, 7.0]]
    assert rec.regions == [{"score": None, "box": [0, 0, 32, 32], "box_fraction": [0.0, 0.0, 1.0, 0.5], "name": "numeral"}]
    big = VerificationResult(path="n.jpg", heatmap=np.zeros((64, 64)))
    assert NoteRecord.from_result(big, batch="b", station="s", operator="o").heatmap is None
