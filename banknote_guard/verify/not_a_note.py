"""The not-a-note gate: teach a model what pictures without a banknote look like.

A desk, a printed form, a screen or a hand under the camera must come out "unknown", not "suspect"
(a false alarm) and never "genuine". Distance to the nearest denomination alone cannot tell (such a
picture can lie as far from every denomination as a hard counterfeit does). So the model keeps
embeddings of a few hundred generated pictures without a note (:mod:`banknote_guard.synth.non_notes`)
as "not a note" references in its gallery, and a picture that lies closer to them than to any note
the model knows, beyond a threshold calibrated on held-out genuine notes, is "unknown"
(:meth:`~banknote_guard.verify.gallery.Gallery.note_likeness`, :func:`~banknote_guard.verify.calibration.calibrate_gate`).

The pictures go through the same preparation as a verified image (note finding, warping), so the
gate sees them as verification will.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from banknote_guard.progress import ProgressCallback, report
from banknote_guard.verify.calibration import calibrate_gate

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.bundle import ModelBundle

#: Pictures without a note embedded into a model (about 15 s to draw and prepare on two CPU cores,
#: once per process; then a second or two to embed).
DEFAULT_NON_NOTES = 200
#: Seed of those pictures (fixed: every model gets the same references).
NON_NOTE_SEED = 7001
#: Size they are drawn at (height, width); verification downsizes captures to this order anyway.
NON_NOTE_SIZE = (240, 320)


@functools.lru_cache(maxsize=4)
def _prepared(n: int, seed: int, config_json: str) -> tuple[np.ndarray, ...]:
    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.preprocess import prepare_image
    from banknote_guard.synth.non_notes import non_note_pictures

    config = ModelConfig.from_dict(json.loads(config_json))
    return tuple(prepare_image(im, config)[0] for im in non_note_pictures(n, seed=seed, size=NON_NOTE_SIZE))


def non_note_embeddings(
    model: "ModelBundle",
    n: int = DEFAULT_NON_NOTES,
    seed: int = NON_NOTE_SEED,
    progress: ProgressCallback | None = None,
    embedder: Any = None,
) -> np.ndarray:
    """(n, D) embeddings of generated pictures without a note, prepared as verification prepares images."""
    report(progress, "gate", f"Drawing {n} pictures without a note", done=0, total=2)
    prepared = _prepared(n, seed, json.dumps(model.config.to_dict(), sort_keys=True))
    report(progress, "gate", "Embedding them", done=1, total=2)
    emb = np.asarray((embedder or model.embedder).embed(list(prepared)), dtype=np.float32)
    report(progress, "gate", "Done", done=2, total=2)
    return emb


def fit_gate(
    model: "ModelBundle",
    genuine_embeddings: np.ndarray,
    *,
    counterfeit_embeddings: np.ndarray | None = None,
    non_notes: np.ndarray | None = None,
    n: int = DEFAULT_NON_NOTES,
    progress: ProgressCallback | None = None,
    embedder: Any = None,
) -> tuple[float, str]:
    """Give ``model`` its "not a note" references and calibrate the gate on held-out genuine embeddings.

    ``counterfeit_embeddings`` (training counterfeits) join the note side of the gate, so a counterfeit
    is judged "suspect", not "not a note".

    Returns the gate threshold and how it was set (also stored in ``model.calibration``).
    """
    if non_notes is None:
        non_notes = non_note_embeddings(model, n, progress=progress, embedder=embedder)
    model.gallery.set_non_notes(non_notes, counterfeit_embeddings)
    likeness = model.gallery.note_likeness(genuine_embeddings) if len(genuine_embeddings) else np.zeros(0)
    model.calibration.gate_threshold, model.calibration.gate_method = calibrate_gate(likeness)
    return model.calibration.gate_threshold, model.calibration.gate_method
