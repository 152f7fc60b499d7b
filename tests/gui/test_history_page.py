"""The History page and the recording of every verification the window makes (stand-in engine, real history)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QDate

from banknote_guard.gui.pages.history import VERDICT_FILTERS
from banknote_guard.history.records import NoteRecord, Review
from banknote_guard.history.store import open_history

pytestmark = pytest.mark.gui

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _load_model(window: Any, tmp_path: Path, qtbot: Any) -> None:
    model_file = tmp_path / "m.bgm"
    model_file.write_text("x")
    with qtbot.waitSignal(window.state.model_changed, timeout=5000):
        window.state.load_model(model_file)


def _verify(window: Any, paths: list[Path], qtbot: Any) -> None:
    page = window.show_page("verify")
    with qtbot.waitSignal(page.busy_changed, timeout=10000, check_params_cb=lambda busy: not busy):
        page.verify(paths)


def _notes(tmp_path: Path, write_note: Any, colours: dict[str, tuple[int, int, int]]) -> list[Path]:
    out = []
    for i, (denom, colour) in enumerate(colours.items()):
        out.append(write_note(tmp_path / "batch" / f"{denom.replace('/', '_')}_{i}.png", colour, seed=i))
    out.append(write_note(tmp_path / "batch" / "odd.png", (200, 60, 60), seed=9))  # far from all: not genuine
    return out


def test_every_verification_goes_into_the_history(window, settings, tmp_path: Path, qtbot, write_note,  # noqa: ANN001
                                                  colours) -> None:  # noqa: ANN001
    db = tmp_path / "h.sqlite"
    settings.history_location = str(db)
    settings.operator_name = "Ann Teller"
    settings.station_name = "Till 2"
    _load_model(window, tmp_path, qtbot)
    files = _notes(tmp_path, write_note, colours)
    _verify(window, files, qtbot)
    window.verify_page.verify_array(np.full((60, 120, 3), (40, 140, 60), np.uint8), "clipboard")
    qtbot.waitUntil(lambda: not window.verify_page.is_busy(), timeout=10000)
    shown = [window.verify_page.displayed(r) for r in window.verify_page.results]
    with open_history(db) as h:
        records = h.query()
    assert len(records) == len(shown) == 5
    by_path = {r.path: r for r in records}
    for res in shown:
        rec = by_path[res.path]
        assert (rec.verdict, rec.denomination) == (res.verdict, res.denomination)
        assert (rec.operator, rec.station) == ("Ann Teller", "Till 2")
    assert by_path["clipboard"].source == "clipboard" and by_path[str(files[0])].source == "file"
    assert len({r.batch for r in records}) == 2  # the folder and the pasted picture are two batches
    assert by_path[str(files[0])].image and by_path[str(files[0])].note_image


def test_the_page_keeps_verifying_when_the_history_cannot_be_opened(window, settings, tmp_path: Path, qtbot,  # noqa: ANN001
                                                                    write_note, colours) -> None:  # noqa: ANN001
    (tmp_path / "a_folder").mkdir()
    settings.history_location = str(tmp_path / "a_folder")
    _load_model(window, tmp_path, qtbot)
    errors: list[tuple[str, str]] = []
    window.state.error.connect(lambda title, msg: errors.append((title, msg)))
    files = _notes(tmp_path, write_note, colours)
    _verify(window, files, qtbot)
    _verify(window, files[:2], qtbot)
    qtbot.wait(50)
    assert window.verify_page.table.rowCount() == 6
    history_errors = [e for e in errors if e[0] == "Verification history"]
    assert len(history_errors) == 1 and "not recorded" in history_errors[0][1]


def test_a_damaged_history_is_reported_kept_aside_and_replaced_by_a_new_file(window, settings, tmp_path: Path,  # noqa: ANN001
                                                                             qtbot, write_note, colours) -> None:  # noqa: ANN001
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"not a database " * 100)
    settings.history_location = str(db)
    _load_model(window, tmp_path, qtbot)
    errors: list[tuple[str, str]] = []
    window.state.error.connect(lambda title, msg: errors.append((title, msg)))
    _verify(window, _notes(tmp_path, write_note, colours), qtbot)
    qtbot.wait(50)
    assert len(errors) == 1 and "damaged" in errors[0][1] and "moved to" in errors[0][1]
    assert [p.read_bytes()[:15] for p in tmp_path.glob("h.sqlite.damaged-*")] == [b"not a database "]
    with open_history(db) as h:
        assert len(h.query()) == 4


def _seed(db: Path, n: int = 12) -> list[NoteRecord]:
    from banknote_guard.history.recorder import jpeg_bytes

    records = []
    for i in range(n):
        rgb = np.full((60, 120, 3), (40 + 15 * i, 120, 200 - 10 * i), np.uint8)
        records.append(NoteRecord(
            batch="20260601-080000-till-1-aaaa" if i < 7 else "20260601-140000-till-2-bbbb",
            station="Till 1" if i < 7 else "Till 2", operator="Ann" if i < 7 else "Bob", source="file",
            path=f"/scans/note_{i:02d}.jpg", verdict=("genuine", "genuine", "suspect", "uncertain")[i % 4],
            denomination=("EUR/20", "EUR/50", "EUR/10")[i % 3], counterfeit_score=1.0 + 0.4 * i, threshold=3.0,
            distances={"EUR/20": 0.2 + 0.01 * i, "EUR/50": 0.9, "EUR/10": 1.1}, model_id="f3c15694ce4d",
            image=jpeg_bytes(rgb), note_image=jpeg_bytes(rgb[10:50, 10:110]),
            created=f"2026-06-01T{8 + i:02d}:15:00.000000+00:00"))
    with open_history(db) as h:
        h.add_many(records)
    return records


def test_history_page_filters_opens_a_card_and_records_a_decision(window, settings, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    db = tmp_path / "h.sqlite"
    records = _seed(db)
    settings.history_location = str(db)
    settings.operator_name = "Chief Cashier"
    window.show()
    qtbot.waitExposed(window)
    page = window.show_page("history")  # searching starts when the page is shown
    qtbot.waitUntil(lambda: page.table.rowCount() == 12 and not page.is_busy(), timeout=10000)
    newest = sorted(records, key=lambda r: r.created)[-1]
    assert page.records[0].id == newest.id and page.table.item(0, 4).text() == "to review"  # newest first
    assert "12 notes shown" in page.status.text() and str(db) in page.status.text()
    assert page.operator.findText("Bob") > 0 and page.denomination.findText("EUR/50") > 0

    page.verdict.setCurrentIndex([v for _, v in VERDICT_FILTERS].index("suspect"))
    page.operator.setEditText("Ann")
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2 and not page.is_busy(), timeout=10000)
    newest_suspect = [r for r in records if r.verdict == "suspect" and r.operator == "Ann"][-1]
    qtbot.waitUntil(lambda: page.card.record is not None and page.card.record.id == newest_suspect.id, timeout=10000)
    card = page.card
    assert card.picture.pixmap() is not None and not card.picture.pixmap().isNull()
    assert card.note.pixmap() is not None and not card.note.pixmap().isNull()
    assert card.form.isVisibleTo(card) and card.reviewer.text() == "Chief Cashier"
    assert "f3c15694ce4d" in card.technical.text() and newest_suspect.id in card.technical.text()

    card.save_review.click()  # no decision chosen yet
    assert window.last_error is not None and window.last_error[0] == "Decision missing"
    card.confirm.setChecked(True)
    card.handover.setText("POL-2026-0042")
    card.serial.setText("EA1234567")
    card.save_review.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2 and page.table.item(0, 4).text() == "\u2716 confirmed"
                    and not page.is_busy(), timeout=10000)
    with open_history(db) as h:
        (review,) = h.reviews(newest_suspect.id)
        assert (review.decision, review.reviewer, review.handover_ref, review.serial_number) == (
            "confirmed", "Chief Cashier", "POL-2026-0042", "EA1234567")
        assert h.get(newest_suspect.id).verdict == "suspect"
    qtbot.waitUntil(lambda: "POL-2026-0042" in card.reviews_label.text(), timeout=10000)

    page.use_dates.setChecked(True)
    page.date_from.setDate(QDate(2030, 1, 1))
    page.date_to.setDate(QDate(2030, 1, 2))
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 0 and not page.is_busy(), timeout=10000)
    assert "No verified notes match" in card.sentence.text()
    page.reset_filters()
    qtbot.waitUntil(lambda: page.table.rowCount() == 12 and not page.is_busy(), timeout=10000)

    with qtbot.waitSignal(page.busy_changed, timeout=10000, check_params_cb=lambda busy: not busy):
        page.check_chain()
    assert page.last_chain_report.ok and "Audit trail intact: 13 event(s)" in page.status.text()


def test_history_page_says_when_the_history_cannot_be_read(window, settings, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    (tmp_path / "a_folder").mkdir()
    settings.history_location = str(tmp_path / "a_folder")
    window.show()
    qtbot.waitExposed(window)
    page = window.show_page("history")
    qtbot.waitUntil(lambda: page.info.isVisibleTo(page) and not page.is_busy(), timeout=10000)
    assert "could not be opened" in page.info.text() and page.table.rowCount() == 0


@pytest.mark.slow
def test_screenshot_of_the_history_page(make_window, settings, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    """The History page at 1280 x 720 after a morning of real verifications (demo model, sample notes)."""
    from banknote_guard import api

    model = api.load_model(api.demo_model_path())
    db = tmp_path / "h.sqlite"
    samples = sorted(Path(api.sample_notes_dir()).glob("*.jpg"))
    with open_history(db) as h:
        for operator, station, files in (("Ann Teller", "Till 1", samples[:8]), ("Bob Cashier", "Till 2", samples[8:])):
            recorder = api.HistoryRecorder(h, station=station, operator=operator, model=model)
            api.RecordingVerifier(model, recorder).verify_paths(files)
        suspects = h.query(verdict="suspect")
        h.review(Review(record_id=suspects[0].id, decision="confirmed", reviewer="Chief Cashier",
                        handover_ref="POL-2026-0042", serial_number="KA4471902", comment="deposit by a walk-in customer"))
    settings.history_location = str(db)
    settings.operator_name = "Chief Cashier"
    window = make_window(api)
    window.state.set_model(model, api.demo_model_path(), remember=False)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    page = window.show_page("history")
    qtbot.waitUntil(lambda: page.table.rowCount() == len(samples) and not page.is_busy(), timeout=20000)
    target = [r for r in suspects if "counterfeit" in r.path][-1].id  # a printed counterfeit, not yet reviewed
    row = [i for i, r in enumerate(page.records) if r.id == target][0]
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: page.card.record is not None and page.card.record.id == target and not page.is_busy(),
                    timeout=20000)
    qtbot.wait(100)
    # the suspect note's card draws why it is suspect (the heat map kept with the record) over the note
    assert page.card.record.heatmap is not None and page.card.record.regions
    assert "red where it differs" in page.card.note.caption.text()
    out_dir = DOCS if os.environ.get("BANKNOTE_GUARD_SCREENSHOTS") == "1" else tmp_path
    out = out_dir / "08_history.png"
    assert window.grab().save(str(out))
    from PIL import Image

    with Image.open(out) as im:
        assert im.size[0] >= 1280 and im.size[1] >= 720 and np.asarray(im.convert("L")).std() > 10
