"""The not-a-note gate: pictures without a banknote come out "unknown", notes do not."""

from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.synth.non_notes import KINDS, non_note_pictures, render_non_note
from banknote_guard.verify.not_a_note import fit_gate
from banknote_guard.verify.verifier import Verifier


def test_every_kind_of_picture_is_drawn_deterministically() -> None:
    for kind in KINDS:
        a = render_non_note(np.random.default_rng(3), kind, (60, 80))
        b = render_non_note(np.random.default_rng(3), kind, (60, 80))
        assert a.shape == (60, 80, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    with pytest.raises(ValueError, match="unknown kind"):
        render_non_note(np.random.default_rng(0), "banknote", (10, 10))


def test_the_gate_turns_away_pictures_without_a_note_and_keeps_the_notes(tiny_bundle, pattern_dataset) -> None:
    _, records = pattern_dataset
    genuine = [r.path for r in records if r.is_genuine]
    emb, _ = tiny_bundle.embedder.embed_paths(genuine)
    fakes, _ = tiny_bundle.embedder.embed_paths([r.path for r in records if not r.is_genuine])
    pictures = non_note_pictures(35, seed=99, size=(120, 160))  # pictures the gate never saw (another seed)
    assert len(tiny_bundle.gallery.non_note_embeddings_) > 0  # models are built with a gate by default
    tiny_bundle.gallery.set_non_notes(np.zeros((0, emb.shape[1])), np.zeros((0, emb.shape[1])))  # no gate
    tiny_bundle.calibration.gate_threshold = float("inf")
    before = [Verifier(tiny_bundle).verify_image(im, f"x{i}").verdict for i, im in enumerate(pictures)]
    threshold, how = fit_gate(tiny_bundle, emb[::2], counterfeit_embeddings=fakes, n=70)
    assert how == "default" or threshold >= 1.0
    assert tiny_bundle.gallery.non_note_embeddings_.shape[0] == 70
    verifier = Verifier(tiny_bundle)
    others = [verifier.verify_image(im, f"x{i}") for i, im in enumerate(pictures)]
    turned_away = [r for r in others if r.verdict in ("unknown", "retake")]
    # an untrained tiny network: the gate must still turn most of them away, far more than without it
    # (the demo model's figures on scikit-image's pictures are in benchmarks/README.md)
    assert len(turned_away) >= 0.5 * len(others)
    assert len(turned_away) >= sum(v in ("unknown", "retake") for v in before) + 5
    unknown = [r for r in others if r.verdict == "unknown"]
    assert unknown and all(any("does not look like a banknote" in s for s in r.reasons) for r in unknown)
    # the held-out genuine notes (odd ones) are not turned away
    notes = verifier.verify_paths(genuine[1::2])
    assert sum(r.verdict == "unknown" for r in notes) <= 1
    # the gate survives a save and a load
    loaded = type(tiny_bundle).from_bytes(tiny_bundle.to_bytes())
    assert loaded.calibration.gate_threshold == pytest.approx(threshold)
    np.testing.assert_array_equal(loaded.gallery.non_note_embeddings_, tiny_bundle.gallery.non_note_embeddings_)
