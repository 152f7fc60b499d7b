"""The result card's heat map (why suspect): red over the regions that differ, numbered boxes, a line naming them.

With ``BANKNOTE_GUARD_SCREENSHOTS=1`` :func:`test_docs_screenshot_of_a_suspect_sample_note` also writes
``docs/images/result_card_heatmap.png``: the Verify page with the bundled demo model and sample notes,
a counterfeit sample note selected.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.gui.widgets.images import qimage_to_rgb
from banknote_guard.gui.widgets.result_card import ResultCard
from banknote_guard.verify.result import VerificationResult

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
DOCS_MODE = os.environ.get("BANKNOTE_GUARD_SCREENSHOTS") == "1"


def _result(verdict: str) -> VerificationResult:
    heat = np.ones((4, 8), np.float32)
    heat[3, 0] = 12.0  # bottom left lights up
    regions = [{"score": 12.0, "box": [0, 48, 16, 64], "box_fraction": [0.0, 0.75, 0.125, 1.0], "name": "numeral"},
               {"score": 1.0, "box": [16, 0, 32, 16], "box_fraction": [0.125, 0.0, 0.25, 0.25], "name": None}]
    return VerificationResult(path="/x/note.png", denomination="KRT/10", verdict=verdict, counterfeit_score=5.0,
                              threshold=3.0, rectified=np.full((64, 128, 3), 235, np.uint8), heatmap=heat,
                              regions=regions, local_score=12.0, global_score=2.0)


def test_card_draws_the_heat_map_for_a_suspect_note_only(qtbot) -> None:  # noqa: ANN001
    card = ResultCard()
    qtbot.addWidget(card)
    card.show_result(_result("suspect"))
    assert "Red on the note" in card.details.text()
    img = qimage_to_rgb(card.image.pixmap().toImage()).astype(int)
    h, w = img.shape[:2]
    lit = img[int(h * 0.8):int(h * 0.95), int(w * 0.02):int(w * 0.1)].mean(axis=(0, 1))
    quiet = img[int(h * 0.4):int(h * 0.6), int(w * 0.5):int(w * 0.7)].mean(axis=(0, 1))
    assert lit[0] - lit[1] > 40  # red over the altered cell
    assert abs(quiet[0] - quiet[1]) < 5  # the rest of the note as it was
    card.show_result(_result("genuine"))
    assert "Red on the note" not in card.details.text()
    img = qimage_to_rgb(card.image.pixmap().toImage()).astype(int)
    assert np.abs(img[..., 0] - img[..., 1]).max() < 5  # a genuine note is shown as it is


@pytest.mark.slow
def test_docs_screenshot_of_a_suspect_sample_note(make_window, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    from banknote_guard import api

    model_path = ROOT / "assets" / "demo_model.bgm"
    samples = ROOT / "assets" / "sample_notes"
    if not model_path.is_file() or not samples.is_dir():
        pytest.skip("the demo model and sample notes are not in this checkout")
    window = make_window(api)
    window.resize(1280, 720)
    window.state.set_model(api.load_model(model_path), model_path, remember=False)
    verify = window.show_page("verify")
    with qtbot.waitSignal(verify.busy_changed, timeout=120000, check_params_cb=lambda busy: not busy):
        verify.verify([samples])
    t = verify.table
    names = [t.item(r, 0).text() for r in range(t.rowCount())]
    labels = [t.item(r, 1).text() for r in range(t.rowCount())]
    suspects = [i for i, (n, lbl) in enumerate(zip(names, labels)) if "counterfeit" in n and "SUSPECT" in lbl]
    assert suspects

    def top_region(i: int) -> float:
        t.selectRow(i)
        return verify.card.result.regions[0]["score"] if verify.card.result.regions else 0.0

    t.selectRow(max(suspects, key=top_region))  # the counterfeit whose evidence is most local
    qtbot.wait(100)
    card = verify.card
    assert card.result is not None and card.result.verdict == "suspect" and card.result.regions
    assert "Regions that differ most" in card.sentence.text()
    out = (ROOT / "docs" / "images") if DOCS_MODE else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(out / "result_card_heatmap.png"))
