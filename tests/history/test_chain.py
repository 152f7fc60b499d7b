"""The audit trail: every change made behind the application's back is found, at its first broken link."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest

from banknote_guard.cli import main
from banknote_guard.history import rows
from banknote_guard.history.records import Review
from banknote_guard.history.store import open_history


def _history(tmp_path: Path, make_record: Any, n: int = 12) -> tuple[Path, list[Any]]:
    path = tmp_path / "h.sqlite"
    records = [make_record(i) for i in range(n)]
    with open_history(path) as h:
        for r in records:
            h.add(r)
        h.review(Review(record_id=records[1].id, decision="confirmed", reviewer="Bob", handover_ref="POL-1"))
        report = h.verify_chain()
    assert report.ok and report.checked == n + 1 and report.head
    return path, records


def _tamper(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    raw = sqlite3.connect(path)
    for table in ("records", "reviews", "events", "blobs"):
        for op in ("update", "delete"):
            raw.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
    for sql, params in statements:
        raw.execute(sql, params)
    raw.commit()
    raw.close()


def _seq(path: Path, subject: str) -> int:
    raw = sqlite3.connect(path)
    seq = raw.execute("SELECT seq FROM events WHERE subject = ?", (subject,)).fetchone()[0]
    raw.close()
    return int(seq)


def _check(path: Path) -> Any:
    with open_history(path) as h:
        return h.verify_chain()


def _forge_event_hash(path: Path, subject: str, new_payload: str) -> None:
    raw = sqlite3.connect(path)
    prev, kind, created = raw.execute("SELECT prev_hash, kind, created FROM events WHERE subject = ?",
                                      (subject,)).fetchone()
    raw.close()
    digest = rows.event_hash(prev, kind, subject, created, new_payload)
    _tamper(path, ("UPDATE events SET payload = ?, hash = ? WHERE subject = ?", (new_payload, digest, subject)))


CASES: dict[str, tuple[Callable[[Path, list[Any]], str], str]] = {
    "verdict changed in the record": (
        lambda p, rec: (_tamper(p, ("UPDATE records SET verdict = 'suspect' WHERE id = ?", (rec[4].id,))), rec[4].id)[1],
        "stored record differs"),
    "score changed in the record": (
        lambda p, rec: (_tamper(p, ("UPDATE records SET counterfeit_score = 0.1 WHERE id = ?", (rec[7].id,))),
                        rec[7].id)[1],
        "stored record differs"),
    "event payload edited": (
        lambda p, rec: (_tamper(p, ("UPDATE events SET payload = replace(payload, 'suspect', 'genuine') "
                                    "WHERE subject = ?", (rec[7].id,))), rec[7].id)[1],
        "hash does not match"),
    "record and event rewritten together, event re-hashed": (
        lambda p, rec: (_tamper(p, ("UPDATE records SET verdict = 'genuine' WHERE id = ?", (rec[7].id,))),
                        _forge_event_hash(p, rec[7].id, rows.payload({
                            **rows.record_row(rec[7])[0], "verdict": "genuine"})), rec[8].id)[2],
        "does not link"),
    "event removed": (
        lambda p, rec: (_tamper(p, ("DELETE FROM events WHERE subject = ?", (rec[5].id,))), rec[6].id)[1],
        "does not link"),
    "stored picture replaced": (
        lambda p, rec: (_tamper(p, ("UPDATE blobs SET data = ? WHERE sha256 = ?",
                                    (b"another picture", hashlib.sha256(rec[3].image).hexdigest()))), rec[3].id)[1],
        "picture is missing or changed"),
    "review decision changed": (
        lambda p, rec: (_tamper(p, ("UPDATE reviews SET decision = 'released' WHERE record_id = ?", (rec[1].id,))),
                        _review_id(p, rec[1].id))[1],
        "stored review differs"),
}


def _review_id(path: Path, record_id: str) -> str:
    raw = sqlite3.connect(path)
    rid = raw.execute("SELECT id FROM reviews WHERE record_id = ?", (record_id,)).fetchone()[0]
    raw.close()
    return str(rid)


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_found_at_the_first_broken_link(case: str, tmp_path: Path, make_record: Any) -> None:
    path, records = _history(tmp_path, make_record)
    tamper, reason = CASES[case]
    subject = tamper(path, records)
    report = _check(path)
    assert not report.ok and report.first_broken is not None
    assert report.first_broken.subject == subject and reason in report.first_broken.reason
    assert report.first_broken.seq == _seq(path, subject)
    assert report.checked == report.first_broken.seq - (2 if case == "event removed" else 1)


def test_the_earliest_of_two_changes_is_reported(tmp_path: Path, make_record: Any) -> None:
    path, records = _history(tmp_path, make_record)
    _tamper(path, ("UPDATE records SET operator = 'Mallory' WHERE id = ?", (records[9].id,)),
            ("UPDATE records SET path = 'other.jpg' WHERE id = ?", (records[2].id,)))
    report = _check(path)
    assert report.first_broken is not None and report.first_broken.subject == records[2].id


def test_a_record_added_outside_the_application_is_found(tmp_path: Path, make_record: Any) -> None:
    path, _ = _history(tmp_path, make_record)
    row, _ = rows.record_row(make_record(99, image=None, note_image=None))
    cols = ", ".join(row)
    _tamper(path, (f"INSERT INTO records ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())))
    report = _check(path)
    assert not report.ok and report.first_broken is not None
    assert report.first_broken.seq is None and report.first_broken.subject == row["id"]
    assert "no event" in report.first_broken.reason


def test_verify_chain_command_exit_codes_and_message(tmp_path: Path, make_record: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path, records = _history(tmp_path, make_record)
    assert main(["history", "verify-chain", "--history", str(path)]) == 0
    assert "Audit trail intact: 13 event(s) checked" in capsys.readouterr().out
    _tamper(path, ("UPDATE records SET verdict = 'suspect' WHERE id = ?", (records[4].id,)))
    assert main(["history", "verify-chain", "--history", str(path)]) == 1
    out = capsys.readouterr().out
    assert "AUDIT TRAIL BROKEN" in out and f"event #{_seq(path, records[4].id)}" in out and records[4].id in out


def test_tampering_on_the_server_is_found(pg_url: str, make_record: Any) -> None:
    from sqlalchemy import text

    from banknote_guard.history.server import ServerHistory

    records = [make_record(i) for i in range(6)]
    with ServerHistory(pg_url) as h:
        for r in records:
            h.add(r)
        assert h.verify_chain().ok
        with h.engine.begin() as conn:
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text("UPDATE records SET verdict = 'genuine'"))
        with h.engine.begin() as conn:
            conn.execute(text("ALTER TABLE records DISABLE TRIGGER records_append_only"))
            conn.execute(text("UPDATE records SET verdict = 'genuine' WHERE id = :i"), {"i": records[3].id})
        report = h.verify_chain()
    assert not report.ok and report.first_broken is not None and report.first_broken.subject == records[3].id
