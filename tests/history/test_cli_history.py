"""``banknote-guard verify`` records into the history; ``banknote-guard history ...`` reads and reviews it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from banknote_guard import api
from banknote_guard.cli import main
from banknote_guard.history.records import Review
from banknote_guard.history.store import open_history


@pytest.fixture
def model_file(tmp_path: Path, tiny_bundle: Any) -> Path:
    path = tmp_path / "tiny.bgm"
    tiny_bundle.save(path)
    return path


@pytest.fixture
def notes(tmp_path: Path, pattern_dataset: Any) -> Path:
    _, records = pattern_dataset
    folder = tmp_path / "notes"
    folder.mkdir()
    for i, rec in enumerate(records[:: len(records) // 5][:5]):
        (folder / f"note{i}.png").write_bytes(rec.path.read_bytes())
    return folder


def test_verify_records_every_note_and_prints_the_batch(model_file: Path, notes: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    code = main(["verify", str(model_file), str(notes), "--history", str(db), "--batch-id", "till-4",
                 "--operator", "Ann", "--station", "Desk 4"])
    assert code in (0, 1)
    err = capsys.readouterr().err
    assert "5 note(s) recorded as batch till-4" in err
    with open_history(db) as h:
        records = h.query()
    assert len(records) == 5 and {(r.batch, r.operator, r.station, r.source) for r in records} == {
        ("till-4", "Ann", "Desk 4", "file")}


def test_verify_uses_the_default_history_unless_told_not_to(model_file: Path, notes: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BANKNOTE_GUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BANKNOTE_GUARD_HISTORY", raising=False)
    main(["verify", str(model_file), str(notes), "--no-history", "-q"])
    assert not (tmp_path / "data").exists()
    main(["verify", str(model_file), str(notes), "-q"])
    with open_history(tmp_path / "data" / "history.sqlite") as h:
        assert len(h.query()) == 5
    monkeypatch.setenv("BANKNOTE_GUARD_HISTORY", str(tmp_path / "env.sqlite"))
    main(["verify", str(model_file), str(notes), "-q"])
    with open_history(tmp_path / "env.sqlite") as h:
        assert len(h.query()) == 5


def test_a_history_that_cannot_be_opened_stops_verify_before_it_starts(model_file: Path, notes: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "folder.sqlite").mkdir()
    assert main(["verify", str(model_file), str(notes), "--history", str(tmp_path / "folder.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "Could not open the history" in err and "--no-history" in err and "Traceback" not in err


def _fill(db: Path, make_record: Any) -> list[Any]:
    hostile = ['=HYPERLINK("http://x")', "+1", "-cmd", "@SUM(A1)", '<script>alert("x")</script>\nsecond line']
    records = [make_record(i, path=f"{hostile[i % 5]}_{i}.jpg") for i in range(12)]
    with open_history(db) as h:
        h.add_many(records)
        h.review(Review(record_id=records[1].id, decision="confirmed", reviewer="Bob", handover_ref="POL-9"))
    return records


def test_list_show_review(tmp_path: Path, make_record: Any, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    records = _fill(db, make_record)
    assert main(["history", "list", "--history", str(db), "--verdict", "suspect"]) == 0
    out = capsys.readouterr().out
    assert "2 note(s)" in out and records[1].id[:8] in out and "confirmed" in out and records[0].id[:8] not in out
    assert main(["history", "list", "--history", str(db), "--json", "--limit", "3"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [r.id for r in records[-3:]]
    assert main(["history", "batches", "--history", str(db)]) == 0
    assert "batch-0" in capsys.readouterr().out

    assert main(["history", "show", records[7].id[:8], "--history", str(db), "--images", str(tmp_path / "img")]) == 0
    out = capsys.readouterr().out
    assert records[7].id in out and "none yet" in out
    assert (tmp_path / "img" / f"{records[7].id}_picture.jpg").read_bytes() == records[7].image

    assert main(["history", "review", records[7].id[:8], "--history", str(db), "--decision", "released",
                 "--by", "Chief", "--comment", "checked under UV"]) == 0
    assert "released by Chief" in capsys.readouterr().out
    assert main(["history", "show", records[7].id, "--history", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["reviews"][0]["decision"] == "released" and shown["record"]["verdict"] == "suspect"

    assert main(["history", "show", "ffffffff", "--history", str(db)]) == 2
    assert "No record id starts with" in capsys.readouterr().err
    assert main(["history", "sync", "--history", str(db)]) == 0


def test_export_json_and_csv_keep_hostile_names_harmless(tmp_path: Path, make_record: Any,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    _fill(db, make_record)
    assert main(["history", "export", "--history", str(db), "--out", str(tmp_path / "all.json")]) == 0
    doc = json.loads((tmp_path / "all.json").read_text())
    assert len(doc["records"]) == 12 and doc["reviews"][0]["handover_ref"] == "POL-9"
    assert main(["history", "export", "--history", str(db), "--batch", "batch-0", "--out",
                 str(tmp_path / "b0.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "b0.csv").read_text(), newline="")))
    assert len(rows) == 10 and rows[1]["review"] == "confirmed" and rows[1]["handover_ref"] == "POL-9"
    for row in rows:
        assert not row["path"].startswith(("=", "+", "-", "@"))
        assert float(row["counterfeit_score"]) >= 0  # numbers stay numbers
    assert rows[0]["path"].startswith("'=HYPERLINK") and "\n" in rows[4]["path"]
    assert main(["history", "export", "--history", str(db), "--out", str(tmp_path / "x.txt")]) == 2
    capsys.readouterr()


def test_export_pdf_goes_through_the_reports_package(tmp_path: Path, make_record: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    _fill(db, make_record)
    out = tmp_path / "batch.pdf"
    code = main(["history", "export", "--history", str(db), "--batch", "batch-0", "--out", str(out)])
    if "render_report" in api.__all__:
        assert code == 0 and out.read_bytes().startswith(b"%PDF")
    else:
        assert code == 2 and "reports package" in capsys.readouterr().err and not out.exists()


def test_verify_reports_a_damaged_history_keeps_it_aside_and_records_into_a_new_one(
    model_file: Path, notes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"garbage, not a database " * 100)
    assert main(["verify", str(model_file), str(notes), "--history", str(db), "-q"]) in (0, 1)
    err = capsys.readouterr().err
    assert "warning: The history file" in err and "is damaged" in err and "moved to" in err
    aside = list(tmp_path.glob("h.sqlite.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"garbage")
    with open_history(db) as h:
        assert len(h.query()) == 5
