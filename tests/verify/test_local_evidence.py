"""Local evidence: cell features against the paper white, the genuine memory, the heat map, fusion, storage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banknote_guard.errors import ModelFileError
from banknote_guard.verify import local_evidence as le
from banknote_guard.verify.verdict import judge

SIZE = (128, 256)  # the default network input (height, width)


def _render(denom: str, side: str, rng: np.random.Generator) -> np.ndarray:
    """A synthetic note as the verifier sees it: rendered, resized to the input, with capture variation
    (white balance, exposure, sensor noise, a pixel or two of misalignment)."""
    import cv2

    from banknote_guard.synth.design import make_serial, render_note

    currency = denom.split("/")[0]
    img = render_note(currency, denom.split("/")[1], side, serial=make_serial(currency, rng), width=512, rng=rng)
    img = cv2.resize(img, (SIZE[1], SIZE[0]), interpolation=cv2.INTER_AREA).astype(np.float32)
    img *= rng.uniform(0.9, 1.05) * rng.uniform(0.95, 1.05, 3)  # exposure and white balance
    shift = np.float32([[1, 0, rng.uniform(-1, 1)], [0, 1, rng.uniform(-1, 1)]])  # the straightening's jitter
    img = cv2.warpAffine(img, shift, (SIZE[1], SIZE[0]), borderMode=cv2.BORDER_REPLICATE)
    img += rng.normal(0, 2.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def krt10():
    """Memory of KRT/10 (both sides) from 16 genuine renderings, and the rendering helper's rng."""
    from banknote_guard.synth.layout import SIDES, side_images, side_layout

    rng = np.random.default_rng(5)
    notes = [_render("KRT/10", ("front", "back")[i % 2], rng) for i in range(16)]
    other = [_render("KRT/20", ("front", "back")[i % 2], rng) for i in range(8)]
    feats = le.features_of(notes)
    memory = le.LocalMemory(le.LocalMemory.measure_prior({"KRT/10": feats, "KRT/20": le.features_of(other)}))
    memory.add("KRT/10", feats)
    sides = {s: le.feature_maps(im) for s, im in side_images("KRT/10", *SIZE).items()}
    le.name_layout(memory, "KRT/10", {s: side_layout("KRT/10", s) for s in SIDES}, sides)
    return memory, rng


def _raise_numeral(note: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A raised note: the big numeral of a KRT/10 front overprinted in another denomination's ink
    (the raised-denomination process); returns the note and the numeral's box as fractions."""
    from banknote_guard.synth.layout import side_layout

    box = next(b for n, b in side_layout("KRT/10", "front") if n == "numeral")
    h, w = note.shape[:2]
    x0, y0, x1, y1 = int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)
    out = note.copy()
    patch = out[y0:y1, x0:x1].astype(np.float32)
    ink = patch.mean(axis=2, keepdims=True) < 200  # the printed strokes, not the paper
    patch = np.where(ink, patch[..., [2, 0, 1]], patch)  # the ink's hue turned
    out[y0:y1, x0:x1] = patch.astype(np.uint8)
    return out, box


def test_features_read_colour_against_the_paper_white():
    rng = np.random.default_rng(1)
    note = _render("KRT/10", "front", rng)
    tinted = np.clip(note.astype(np.float32) * np.array([0.85, 0.95, 1.1]), 0, 255).astype(np.uint8)
    base, warm = le.feature_maps(note), le.feature_maps(tinted)
    assert base.shape == (*le.GRID, len(le.FEATURES))
    ab = [le.FEATURES.index("green_red"), le.FEATURES.index("blue_yellow")]
    # a white-balance tint moves the cells' colour a little; without the paper white it moves it a lot
    raw_shift = np.abs(
        np.asarray(__import__("cv2").cvtColor(tinted.astype(np.float32) / 255, __import__("cv2").COLOR_RGB2LAB))[..., 1:].mean((0, 1))
        - np.asarray(__import__("cv2").cvtColor(note.astype(np.float32) / 255, __import__("cv2").COLOR_RGB2LAB))[..., 1:].mean((0, 1))
    ).max()
    assert np.abs(warm[..., ab] - base[..., ab]).mean() < 0.25 * raw_shift
    white = le.paper_white(tinted)
    assert white[2] > white[0]  # the tint was bluish


def test_altered_region_lights_that_region_and_not_the_rest(krt10):
    memory, rng = krt10
    genuine = _render("KRT/10", "front", rng)
    raised, box = _raise_numeral(genuine)
    ev_gen = memory.evidence(le.feature_maps(genuine), "KRT/10", SIZE)
    ev = memory.evidence(le.feature_maps(raised), "KRT/10", SIZE)
    assert ev.score > 2 * ev_gen.score
    top = ev.regions[0]
    assert top.name == "numeral"
    # the top cell overlaps the altered box
    fx0, fy0, fx1, fy1 = top.box_fraction
    assert fx0 < box[2] and box[0] < fx1 and fy0 < box[3] and box[1] < fy1
    # cells away from the numeral stay as quiet as on the genuine note
    rows, cols = le.GRID
    far = np.ones(le.GRID, bool)
    for r in range(rows):
        for c in range(cols):
            x0, y0, x1, y1 = c / cols, r / rows, (c + 1) / cols, (r + 1) / rows
            if x0 < box[2] + 1 / cols and box[0] - 1 / cols < x1 and y0 < box[3] + 1 / rows and box[1] - 1 / rows < y1:
                far[r, c] = False
    assert ev.heatmap[far].max() < 0.5 * ev.heatmap.max()
    assert np.abs(ev.heatmap[far] - ev_gen.heatmap[far]).max() < 1.0


def test_a_note_turned_by_180_degrees_scores_the_same_and_maps_in_its_own_frame(krt10):
    memory, rng = krt10
    raised, _ = _raise_numeral(_render("KRT/10", "front", rng))
    ev = memory.evidence(le.feature_maps(raised), "KRT/10", SIZE)
    turned = memory.evidence(le.feature_maps(raised[::-1, ::-1]), "KRT/10", SIZE)
    assert turned.rotated and not ev.rotated
    assert turned.score == pytest.approx(ev.score, rel=0.15)
    assert np.unravel_index(np.argmax(turned.heatmap), le.GRID) == tuple(
        np.array(le.GRID) - 1 - np.array(np.unravel_index(np.argmax(ev.heatmap), le.GRID))
    )
    assert turned.regions[0].name == "numeral"


def test_spread_shrinks_towards_the_prior_and_is_floored():
    rng = np.random.default_rng(0)
    prior = np.ones(len(le.FEATURES), np.float32)
    memory = le.LocalMemory(prior)
    identical = np.repeat(rng.normal(size=(1, *le.GRID, len(le.FEATURES))).astype(np.float32), 5, axis=0)
    memory.add("A", identical)  # five identical shots: no own spread at all
    (_, spread, n), = memory.modes["A"]
    assert n == 5
    expected = math.sqrt(le.PRIOR_WEIGHT / (5 + le.PRIOR_WEIGHT)) * math.sqrt(1 + 1 / 5)
    assert np.allclose(spread, max(expected, le.FLOOR_FRACTION * math.sqrt(1.2)), rtol=1e-5)
    wide = rng.normal(scale=4.0, size=(200, *le.GRID, len(le.FEATURES))).astype(np.float32)
    memory.add("B", wide)  # many notes: their own spread takes over
    spread_b = np.concatenate([m[1].ravel() for m in memory.modes["B"]])
    assert 3.0 < float(np.median(spread_b)) < 4.5


def test_fusion_keeps_old_models_exact_and_fails_closed_without_an_image(tiny_bundle):
    denom = tiny_bundle.gallery.classes_[0]
    saved = tiny_bundle.local_memory
    tiny_bundle.local_memory = None
    old = le.note_evidence(tiny_bundle, np.zeros((32, 64, 3), np.uint8), denom, 1.234)
    assert old.fused == 1.234 and old.local is None
    tiny_bundle.local_memory = saved
    missing = le.note_evidence(tiny_bundle, None, denom, 1.234)
    assert math.isnan(missing.fused)
    assert judge(missing.fused, 5.0, 100.0, distance_score=1.234) == "suspect"
    # the "unknown" tests read the distance score, not the fused one
    assert judge(3.0, 5.0, 10.0, distance_score=20.0) == "unknown"
    assert judge(20.0, 5.0, 10.0, distance_score=3.0) == "suspect"
    assert float(le.fuse(3.0, 4.0, 1.0)) == pytest.approx(5.0) if le.FUSION_POWER == 2 else True


def test_verifier_reports_local_evidence_and_regions(tiny_bundle, pattern_dataset):
    from banknote_guard.verify.verifier import Verifier

    assert tiny_bundle.local_memory is not None  # training builds it
    root, records = pattern_dataset
    results = Verifier(tiny_bundle).verify_paths([records[0].path, records[-1].path])
    for r in results:
        assert r.ok and r.local_score is not None and math.isfinite(r.local_score)
        assert r.counterfeit_score >= r.global_score - 1e-9
        doc = r.to_json()
        assert len(doc["regions"]) == le.MAX_REGIONS
        assert doc["regions"][0]["score"] >= doc["regions"][-1]["score"]
        x0, y0, x1, y1 = doc["regions"][0]["box"]
        assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 32
        assert r.heatmap is not None and r.heatmap.shape == le.GRID


def test_model_file_keeps_the_memory_and_refuses_a_damaged_one(tiny_bundle):
    from banknote_guard.verify.bundle import ModelBundle

    again = ModelBundle.from_bytes(tiny_bundle.to_bytes())
    a, b = tiny_bundle.local_memory, again.local_memory
    assert b is not None and b.scale == pytest.approx(a.scale)
    assert sorted(a.modes) == sorted(b.modes)
    for d in a.modes:
        for (c1, s1, n1), (c2, s2, n2) in zip(a.modes[d], b.modes[d]):
            assert np.array_equal(c1, c2) and np.array_equal(s1, s2) and n1 == n2
    arrays, meta = a.to_arrays()
    arrays["spreads"] = arrays["spreads"].copy()
    arrays["spreads"][0, 0, 0, 0] = -1.0
    with pytest.raises(ModelFileError, match="local evidence"):
        le.LocalMemory.from_arrays(arrays, meta)
    with pytest.raises(ModelFileError, match="another layout"):
        le.LocalMemory.from_arrays(a.to_arrays()[0], dict(meta, grid=[2, 2]))


def test_enrolled_denomination_gets_a_memory(tiny_bundle, new_dataset):
    from banknote_guard.verify.enroll import enroll_dataset

    report = enroll_dataset(tiny_bundle, new_dataset, k=5)
    for e in report.enrolled:
        assert tiny_bundle.local_memory.knows(e.denomination)
        modes = tiny_bundle.local_memory.modes[e.denomination]
        assert sum(n for _, _, n in modes) == 5
        assert e.threshold == tiny_bundle.calibration.thresholds[e.denomination]


def test_why_suspect_names_the_regions_in_words(krt10):
    memory, rng = krt10
    raised, _ = _raise_numeral(_render("KRT/10", "front", rng))
    ev = memory.evidence(le.feature_maps(raised), "KRT/10", SIZE)
    sentence = le.why_suspect("KRT/10", ev.regions)
    assert sentence.startswith("Regions that differ most from genuine KRT/10 notes") and "1 numeral (" in sentence
    assert le.where((0.0, 0.0, 0.125, 0.25)) == "top left" and le.where((0.875, 0.75, 1.0, 1.0)) == "bottom right"


def test_a_model_without_local_evidence_scores_as_before(tiny_bundle, pattern_dataset):
    from banknote_guard.model.preprocess import load_and_prepare
    from banknote_guard.verify.verifier import score_embeddings

    _, records = pattern_dataset
    notes = [load_and_prepare(r.path, tiny_bundle.config)[0] for r in records[:6]]
    emb = tiny_bundle.embedder.embed(notes)
    tiny_bundle.local_memory = None
    results = score_embeddings(tiny_bundle, emb, ["n"] * 6, None, notes)
    best, score, _ = tiny_bundle.gallery.scores(emb)
    for r, s in zip(results, score):
        assert r.counterfeit_score == r.global_score == pytest.approx(float(s))
        assert r.local_score is None and r.regions == [] and r.heatmap is None
        assert not any("Regions that differ" in x for x in r.reasons)


def test_too_few_genuine_notes_build_no_local_evidence(tiny_bundle):
    tiny_bundle.local_memory = None
    notes = [np.full((32, 64, 3), 200, np.uint8)] * 2
    assert le.build_local_evidence(tiny_bundle, notes, ["TST/0", "TST/1"], notes, ["TST/0", "TST/1"],
                                   np.zeros((2, 16), np.float32)) is None
    assert tiny_bundle.local_memory is None
