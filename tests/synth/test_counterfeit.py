"""Tests of the counterfeit processes."""

from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.synth.counterfeit import METHODS, counterfeit
from banknote_guard.synth.design import render_note

CUR, DEN, SIDE = "KRT", "20", "front"


def _note() -> np.ndarray:
    return render_note(CUR, DEN, SIDE, serial="KAB1234567", width=256, rng=np.random.default_rng(0))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_changes_the_note_more_at_easy_than_hard(method: str) -> None:
    note = _note()
    diffs = {}
    for difficulty in ("easy", "hard"):
        fake = counterfeit(note, method, np.random.default_rng(1), difficulty=difficulty, currency=CUR,
                           denomination=DEN, side=SIDE)
        assert fake.shape == note.shape and fake.dtype == np.uint8
        diffs[difficulty] = np.abs(fake.astype(float) - note).mean()
        assert diffs[difficulty] > 0.2, (method, difficulty)
    assert diffs["easy"] > diffs["hard"], method


def test_counterfeit_is_deterministic() -> None:
    note = _note()
    a = counterfeit(note, "inkjet", np.random.default_rng(9), difficulty="normal")
    b = counterfeit(note, "inkjet", np.random.default_rng(9), difficulty="normal")
    assert np.array_equal(a, b)


def test_counterfeit_rejects_bad_input() -> None:
    note = _note()
    with pytest.raises(ParameterError):
        counterfeit(note, "photoshop", np.random.default_rng(0))
    with pytest.raises(ParameterError):
        counterfeit(note, "flat_hologram", np.random.default_rng(0))  # needs the design
    low = render_note(CUR, "5", SIDE, serial="KAB1234567", width=256, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError):
        counterfeit(low, "raised_denomination", np.random.default_rng(0), currency=CUR, denomination="5", side=SIDE)
