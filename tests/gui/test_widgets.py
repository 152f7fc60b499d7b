"""The painted widgets: tick ranges, bar chart sizing, painting without errors, image conversion."""

from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.gui.widgets.bar_chart import BarChart
from banknote_guard.gui.widgets.images import qimage_to_rgb, rgb_to_qimage
from banknote_guard.gui.widgets.line_chart import LiveLineChart, nice_ticks
from banknote_guard.gui.widgets.result_card import ResultCard, ScoreGauge
from banknote_guard.verify.result import VerificationResult

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(("lo", "hi"), [(0, 1.43), (0, 0.07), (0.2, 0.9), (0, 1234.0), (5, 5)])
def test_ticks_cover_the_data(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert 2 <= len(ticks) <= 12
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])


def _painted(widget) -> np.ndarray:  # noqa: ANN001
    widget.resize(500, 300)
    return qimage_to_rgb(widget.grab().toImage())


def test_line_chart_paints_both_series(qtbot) -> None:  # noqa: ANN001
    chart = LiveLineChart()
    qtbot.addWidget(chart)
    empty = _painted(chart)
    for e in range(1, 6):
        chart.add_left(e, 1.5 / e)
        chart.add_right(e, 0.5 + e / 12)
    chart.add_left(5, 0.25)  # replaces the point of epoch 5
    assert chart.left[-1] == (5.0, 0.25) and len(chart.left) == 5
    drawn = _painted(chart)
    blue = np.all(np.abs(drawn.astype(int) - [0x1A, 0x5F, 0xB4]) < 40, axis=2).sum()
    orange = np.all(np.abs(drawn.astype(int) - [0xC0, 0x56, 0x00]) < 40, axis=2).sum()
    assert blue > 100 and orange > 100
    assert not np.array_equal(empty, drawn)
    chart.add_left(6, float("nan"))  # ignored, not drawn
    assert len(chart.left) == 5


def test_bar_chart_grows_with_items_and_caps_them(qtbot) -> None:  # noqa: ANN001
    chart = BarChart("Distances", max_items=4)
    qtbot.addWidget(chart)
    chart.set_items([("A/1", 0.3), ("B/2", 0.1)], highlight="B/2")
    small = chart.sizeHint().height()
    assert [k for k, _ in chart.items] == ["B/2", "A/1"]
    chart.set_items([(f"C/{i}", i / 10) for i in range(9)], sort="desc")
    assert chart.sizeHint().height() > small
    assert chart.items[0] == ("C/8", 0.8)
    assert _painted(chart).std() > 5


def test_result_card_and_gauge(qtbot) -> None:  # noqa: ANN001
    card = ResultCard()
    qtbot.addWidget(card)
    rgb = np.zeros((60, 120, 3), np.uint8)
    rgb[:, :60] = (200, 30, 30)
    r = VerificationResult(path="/x/note.png", denomination="EUR/20", verdict="genuine", counterfeit_score=0.5,
                           threshold=2.0, distances={"EUR/20": 0.1, "EUR/50": 0.9}, probabilities={"EUR/20": 0.9},
                           note_found=False, rectified=rgb, seconds=0.02)
    card.show_result(r)
    assert card.badge.text() == "\u2714 GENUINE" and "below the threshold 2.00" in card.details.text()
    assert "whole image was used" in card.details.text() and "20 ms" in card.details.text()
    assert card.gauge.score == 0.5 and card.gauge.threshold == 2.0
    _painted(card)
    gauge = ScoreGauge()
    qtbot.addWidget(gauge)
    gauge.set_values(0.1, 5.0)
    assert _painted(gauge).std() > 5
    card.clear()
    assert card.result is None and not card.badge.isVisibleTo(card)


def test_image_round_trip() -> None:
    rgb = (np.arange(7 * 5 * 3) % 256).astype(np.uint8).reshape(7, 5, 3)  # odd width: padded rows
    assert np.array_equal(qimage_to_rgb(rgb_to_qimage(rgb)), rgb)
    grey = np.full((4, 6), 77, np.uint8)
    assert qimage_to_rgb(rgb_to_qimage(grey)).shape == (4, 6, 3)
    with pytest.raises(ValueError):
        rgb_to_qimage(np.zeros((4, 4, 1), np.uint8))
