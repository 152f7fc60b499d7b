"""The Reports page: batches from the history, preview page by page, export; the Verify page's notes without a history."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from banknote_guard import api
from banknote_guard.history.records import NoteRecord
from banknote_guard.verify.result import VerificationResult

pytestmark = pytest.mark.gui


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    img = np.zeros((60, 120, 3), np.uint8)
    img[:] = colour
    img[20:30] //= 2
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG")
    return buf.getvalue()


def _note(batch: str, i: int, verdict: str, minute: int) -> NoteRecord:
    denom = "KRT/20" if i % 2 else "KRT/5"
    return NoteRecord(batch=batch, station="desk 1", operator="Ann", source="file", path=f"/in/{batch}-{i}.jpg",
                      verdict=verdict, denomination=denom, counterfeit_score=3.0 if verdict == "suspect" else 1.0,
                      threshold=2.0, distances={"KRT/5": 0.4, "KRT/20": 0.9}, model_id="abc123",
                      image=_jpeg((40, 140, 60)), note_image=_jpeg((40, 80, 180)),
                      created=f"2026-11-29T10:{minute:02d}:{i:02d}+00:00")


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    """A history with batch A (6 notes, 2 suspect; 10:00) and batch B (3 genuine notes; 11:00)."""
    path = tmp_path / "history.sqlite"
    with api.open_history(path) as h:
        h.add_many([_note("A", i, "suspect" if i in (1, 4) else "genuine", 0) for i in range(6)])
        h.add_many([_note("B", i, "genuine", 59) for i in range(3)])
    return path


def _reports_page(window, settings, location: Path, qtbot):  # noqa: ANN001, ANN202
    settings.history_location = str(location)
    window.show()
    page = window.show_page("reports")  # showing the page reads the batches
    qtbot.waitUntil(lambda: page.job is None and not page._stale, timeout=10000)
    return page


def _done(page, qtbot, timeout: int = 30000) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: page.job is None, timeout=timeout)


def test_batches_preview_page_by_page_and_export(window, settings, history_file, tmp_path, qtbot) -> None:
    page = _reports_page(window, settings, history_file, qtbot)
    assert [b.id for b in page.batches] == ["B", "A"]  # newest first
    assert "6 notes, 2 suspect" in page.batch_combo.itemText(1)
    assert page.select_batch("A")
    page.make_preview()
    _done(page, qtbot)
    assert page.preview is not None and page.preview.pages >= 2
    assert page.page_info.text() == f"Page 1 of {page.preview.pages}"
    assert not page.page_view.pixmap().isNull() and page.page_view.pixmap().width() > 400
    assert not page.prev_button.isEnabled() and page.next_button.isEnabled()
    page.next_button.click()
    assert page.page_index == 1 and page.prev_button.isEnabled()
    window.resize(1280, 720)
    shot = tmp_path / "reports_page.png"
    window.grab().save(str(shot))
    assert Image.open(shot).size == (1280, 720)

    page.export(tmp_path / "a.pdf")  # the previewed PDF, byte for byte
    _done(page, qtbot)
    assert (tmp_path / "a.pdf").read_bytes() == page.preview.pdf
    assert "Report saved" in page.status.text()
    page.export(tmp_path / "a.csv")
    _done(page, qtbot)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text(encoding="utf-8"), newline="")))
    assert [r["path"] for r in rows] == [f"/in/A-{i}.jpg" for i in range(6)]


def test_time_span_and_handover_forms(window, settings, history_file, tmp_path, qtbot) -> None:
    from PySide6.QtCore import QDateTime, Qt

    page = _reports_page(window, settings, history_file, qtbot)
    page.from_span.setChecked(True)
    page.since_edit.setDateTime(QDateTime.fromString("2026-11-29T09:00:00Z", Qt.DateFormat.ISODate).toLocalTime())
    page.until_edit.setDateTime(QDateTime.fromString("2026-11-29T12:00:00Z", Qt.DateFormat.ISODate).toLocalTime())
    assert page.selection().since == "2026-11-29T09:00:00Z"
    page.kind_combo.setCurrentIndex(2)  # hand-over forms
    page.export(tmp_path / "forms.json")
    _done(page, qtbot)
    doc = __import__("json").loads((tmp_path / "forms.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "handover" and doc["summary"]["total"] == 9
    assert [n["path"] for n in doc["notes"]] == ["/in/A-1.jpg", "/in/A-4.jpg"]
    # batch B has no suspect note: the page says so instead of a preview
    page.from_batch.setChecked(True)
    page.select_batch("B")
    page.make_preview()
    _done(page, qtbot)
    assert page.preview is None and "no suspect note to hand over" in page.page_view.text()


def test_the_verify_page_notes_when_the_history_cannot_be_opened(window, settings, tmp_path, qtbot) -> None:
    folder = tmp_path / "a folder, not a history file"
    folder.mkdir()
    page = _reports_page(window, settings, folder, qtbot)
    assert page.info.isVisible() and "could not be opened" in page.info.text()
    assert page.from_current.isChecked()
    page.make_preview()  # nothing verified yet
    _done(page, qtbot)
    assert "shows no notes yet" in page.page_view.text()
    rect = np.full((60, 120, 3), (200, 60, 60), np.uint8)
    window.verify_page.results = [
        VerificationResult(path="/in/<b>red</b>.png", denomination="KRT/20", verdict="suspect", counterfeit_score=3.0,
                           threshold=2.0, distances={"KRT/20": 0.9}, rectified=rect),
        VerificationResult.failed("/in/broken.png", "not an image file"),
    ]
    page.export(tmp_path / "current.html")
    _done(page, qtbot)
    text = (tmp_path / "current.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;red&lt;/b&gt;.png" in text and "<b>red</b>" not in text
    assert text.count("data:image/jpeg;base64,") >= 2  # the straightened note: thumbnail and detail
