"""PDF reports, rendered by pdftoppm and read back by pdftotext: header, totals and every suspect note are there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from banknote_guard.reports.context import ReportContext
from banknote_guard.reports.fonts import FontMissingError
from banknote_guard.reports.render import render_report


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_batch_pdf_has_header_totals_rows_and_every_suspect_note(tmp_path, records, context, pdf_text, pdf_pages) -> None:
    out = render_report("batch", records, context, fmt="pdf", out=tmp_path / "batch.pdf")
    assert out.read_bytes().startswith(b"%PDF-")
    pages = pdf_pages(out)
    assert len(pages) >= 2
    for page in pages:  # every page renders, at A4 proportions
        with Image.open(page) as im:
            assert abs(im.height / im.width - 297 / 210) < 0.01
    text = pdf_text(out)
    flat = _squash(text)
    for fact in ("Batch report", "A. Teller", "desk 3", "shift-7", "0123456789ab", "1 % of genuine notes",
                 "KRT/5: 1.80", "VLM/10: 1.80", "Threshold scale"):
        assert fact in flat, fact
    assert "Time span 2026-11-29 08:00:00 UTC \u2013 2026-11-29 08:00:19 UTC" in flat
    assert "Genuine value 80 KRT, 20 VLM" in flat
    assert "Suspect value 20 KRT, 20 VLM (withheld; not counted)" in flat
    for chip in ("GENUINE 9", "SUSPECT 4", "UNCERTAIN 2", "UNKNOWN 2", "RETAKE 2", "ERROR 1"):
        assert chip in flat, chip
    # one row per note
    for r in records:
        assert Path(r.path).name in flat
    # the reasons of uncertain and retake notes are shown
    assert "The picture is blurred." in flat and "almost equally close" in flat
    # a detail section for every suspect note: its record id, full path and score against the threshold
    details = flat[flat.index("Suspect and uncertain notes (6)"):]
    for r in records:
        if r.verdict in ("suspect", "uncertain"):
            assert r.id in details and r.path in details
            assert f"{r.counterfeit_score:.2f} / 1.80" in details
    assert "Distance to each denomination" in details and "Counterfeit score against threshold" in details
    assert f"page 1 of {len(pages)}" in flat


def test_certificate_pdf_one_page_per_note(tmp_path, make_records, context, pdf_text, pdf_pages, review_of) -> None:
    notes = make_records(3)
    reviews = [review_of(notes[2], "confirmed", handover_ref="POL-1", comment="handed to the police")]
    out = render_report("certificate", notes, context, fmt="pdf", out=tmp_path / "cert.pdf", reviews=reviews)
    assert len(pdf_pages(out)) == 3
    flat = _squash(pdf_text(out))
    for r in notes:
        assert f"Certificate no. {r.id}" in flat
        assert r.image_sha256 in flat
    assert "GENUINE \u2014 accept" in flat and "SUSPECT \u2014 withhold, hand to the authorities" in flat
    assert "picture as captured" in flat and "straightened note as scored" in flat
    assert "confirmed by B. Supervisor" in flat and "POL-1" in flat
    assert "it is not a forensic examination" in flat


def test_handover_pdf_one_form_per_suspect_note(tmp_path, records, context, pdf_text, pdf_pages, review_of) -> None:
    suspects = [r for r in records if r.verdict == "suspect"]
    reviews = [review_of(suspects[0], "confirmed", serial_number="XA1234567B", comment="Customer said: from an ATM."),
               review_of(suspects[3], "released")]
    out = render_report("handover", records, context, fmt="pdf", out=tmp_path / "handover.pdf", reviews=reviews)
    assert len(pdf_pages(out)) == 3
    flat = _squash(pdf_text(out))
    for k, r in enumerate(suspects[:3], 1):
        assert f"form {k} of 3" in flat
        assert r.id in flat
        assert f"HO-20261129-{r.id.replace('-', '')[:8].upper()}" in flat
    assert suspects[3].id not in flat  # released after review: not handed over
    assert "X A 1 2 3 4 5 6 7 B" in flat  # the serial number filled into its boxes
    assert "Customer said: from an ATM." in flat
    assert "Received by (name, authority," in flat and "Handed over by (name, signature)" in flat
    assert "face value 10 KRT" in flat and "face value 10 VLM" in flat


def test_pdf_shows_any_script_and_survives_hostile_text(tmp_path, make_records, pdf_text) -> None:
    names = ["/in/\u0411\u0430\u043d\u043a\u043d\u043e\u0442\u0430 \u2116 7.jpg", "/in/<b>bold</b>\n=cmd|' /C calc'!A0.jpg",
             "/in/" + "x" * 300 + ".jpg"]
    notes = make_records(10, names=names, operator="\u0397\u03bb\u03ad\u03bd\u03b7 \u039a.", station="Kasse\u00a02 \u00fc")
    notes[2].reasons = ["line one\nline two\r\n\x00tab\tend"]
    ctx = ReportContext(title="Schicht\u00fcbergabe \u2014 Kasse 2")
    out = render_report("batch", notes, ctx, fmt="pdf", out=tmp_path / "hostile.pdf")
    flat = _squash(pdf_text(out))
    assert "\u0395\u03bb\u03ad\u03bd\u03b7 \u039a." in flat or "\u0397\u03bb\u03ad\u03bd\u03b7 \u039a." in flat
    assert "\u0411\u0430\u043d\u043a\u043d\u043e\u0442\u0430 \u2116 7.jpg" in flat
    assert "Schicht\u00fcbergabe \u2014 Kasse 2" in flat
    assert "line one line two tab end" in flat


def test_a_damaged_picture_costs_one_frame_not_the_report(tmp_path, make_records, pdf_text) -> None:
    notes = make_records(3)
    notes[2].note_image = b"\xff\xd8\xff\xe0 this is not a JPEG"
    notes[2].image = b"GIF89a....."
    out = render_report("certificate", notes, None, fmt="pdf", out=tmp_path / "damaged.pdf")
    flat = _squash(pdf_text(out))
    assert "picture damaged" in flat and "the picture as captured could not be decoded" in flat
    listed = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True)
    if listed.returncode == 0:  # 2 pictures for each sound note
        assert len(listed.stdout.strip().splitlines()) - 2 == 4


def test_missing_font_is_one_clear_error(tmp_path, monkeypatch, records) -> None:
    import banknote_guard.reports.fonts as fonts

    monkeypatch.setenv("BANKNOTE_GUARD_ASSETS", str(tmp_path / "no-assets"))
    monkeypatch.setattr(fonts, "SYSTEM_FOLDERS", ())
    with pytest.raises(FontMissingError, match="DejaVuSans.ttf"):
        render_report("batch", records, None, fmt="pdf", out=tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_the_bundled_font_is_found(monkeypatch) -> None:
    import banknote_guard.reports.fonts as fonts

    monkeypatch.delenv("BANKNOTE_GUARD_ASSETS", raising=False)
    monkeypatch.setattr(fonts, "SYSTEM_FOLDERS", ())
    found = fonts.report_fonts()
    assert found.regular.parent.name == "fonts" and found.regular.parent.parent.name == "assets"
    assert (found.regular.parent / "LICENSE-DejaVu.txt").is_file()


def test_a_suspect_note_shows_its_heat_map_in_the_report(tmp_path, make_records, context, pdf_text, pdf_pages) -> None:
    """The detail section draws the heat map over the straightened note: the one deviating cell turns red
    and is boxed, the rest of the note keeps its colours; the caption says what the red means."""
    from banknote_guard.reports.images import Pictures, WHY_CAPTION, jpeg_size

    notes = make_records(3)
    suspect = notes[2]
    assert suspect.verdict == "suspect"
    heat = [[0.0] * 8 for _ in range(4)]
    heat[1][6] = 9.0  # one cell far from genuine notes: full red
    suspect.heatmap = heat
    suspect.regions = [{"score": 9.0, "box": None, "box_fraction": [0.75, 0.25, 0.875, 0.5], "name": "security thread"}]
    suspect.reasons = ["Regions that differ most from genuine KRT/10 notes: 1 security thread (9.0)."]
    pictures = Pictures()
    drawn, caption = pictures.scored(suspect)
    assert caption == WHY_CAPTION
    plain = pictures.note(suspect)
    import io

    a = np.asarray(Image.open(io.BytesIO(drawn)).convert("RGB"), np.float32)
    b = np.asarray(Image.open(io.BytesIO(plain)).convert("RGB"), np.float32)
    w, h = jpeg_size(drawn)
    cell = (slice(h // 4 + 8, h // 2 - 8), slice(int(w * 0.75) + 8, int(w * 0.875) - 8))
    assert (a[cell][..., 0] - b[cell][..., 0]).mean() > 40  # redder where it deviates
    assert (a[cell][..., 2] - b[cell][..., 2]).mean() < -5
    rest = np.ones((h, w), bool)
    rest[h // 4 - 4: h // 2 + 4, int(w * 0.75) - 4: int(w * 0.875) + 4] = False
    assert np.abs(a[rest] - b[rest]).mean() < 4  # the rest of the note is as it was
    # genuine notes and records without a heat map keep the plain picture
    assert pictures.scored(notes[0])[1] == "straightened note as scored"
    out = render_report("batch", notes, context, fmt="pdf", out=tmp_path / "batch.pdf")
    flat = _squash(pdf_text(out))
    assert "red where it differs from genuine notes" in flat and "1 security thread (9.0)" in flat
    # a stored heat map that is damaged costs the drawing, never the report
    suspect.heatmap = [["x", None], [1]]  # type: ignore[list-item]
    assert Pictures().scored(suspect)[1] == "straightened note as scored"
    render_report("batch", notes, context, fmt="pdf", out=tmp_path / "damaged.pdf")
