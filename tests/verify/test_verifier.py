from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from banknote_guard.data.imageio import load_image
from banknote_guard.verify.bundle import ModelBundle
from banknote_guard.verify.calibration import Calibration
from banknote_guard.verify.gallery import Gallery
from banknote_guard.verify.svm import OneVsRestSVM
from banknote_guard.verify.verifier import (
    Verifier,
    expand_paths,
    score_embeddings,
    verify_image,
    verify_paths,
)


def test_batch_with_broken_file_folder_missing_path_and_glob(tiny_bundle, pattern_dataset, tmp_path) -> None:
    root, _ = pattern_dataset
    work = tmp_path / "in"
    (work / "sub").mkdir(parents=True)
    good = sorted((root / "TST" / "1" / "genuine").glob("*.png"))[:3]
    for i, p in enumerate(good):
        shutil.copy(p, work / "sub" / f"n{i}.png")
    (work / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(good[0], extra / "a.png")
    shutil.copy(good[1], extra / "b.png")
    paths = [work, tmp_path / "missing.png", str(extra / "*.png"), str(tmp_path / "none" / "*.jpg")]
    results = verify_paths(tiny_bundle, paths, progress=None)
    names = [r.path for r in results]
    assert len(results) == 4 + 1 + 2 + 1
    assert names[:4] == [str(work / "sub" / n) for n in ("broken.png", "n0.png", "n1.png", "n2.png")]
    by_name = {r.path: r for r in results}
    broken = by_name[str(work / "sub" / "broken.png")]
    assert broken.status == "error" and "broken.png" in broken.error
    assert by_name[str(tmp_path / "missing.png")].status == "error"
    assert "not found" in by_name[str(tmp_path / "missing.png")].error
    assert "No image files match" in results[-1].error
    ok = [r for r in results if r.ok]
    assert len(ok) == 5
    for r in ok:
        assert r.denomination == "TST/1"
        assert r.verdict in ("genuine", "suspect", "unknown")
        assert set(r.distances) == set(tiny_bundle.denominations)
        assert set(r.probabilities) == set(tiny_bundle.denominations)
        assert r.rectified is not None and r.rectified.shape == (32, 64, 3)
        assert r.seconds is not None and r.seconds > 0


def test_expand_paths_removes_repeats_and_reports_empty_folders(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.png").write_bytes(b"x")
    items = expand_paths([tmp_path / "a.png", str(tmp_path / "*.png"), tmp_path / "empty"])
    assert [i.path for i in items[:1]] == [tmp_path / "a.png"]
    assert len(items) == 2 and "No image files in folder" in items[1].error


def test_image_in_memory_matches_the_file(tiny_bundle, pattern_dataset) -> None:
    root, records = pattern_dataset
    path = records[0].path
    from_file = verify_paths(tiny_bundle, [path])[0]
    in_memory = verify_image(tiny_bundle, load_image(path), "clipboard")
    assert in_memory.path == "clipboard"
    assert in_memory.counterfeit_score == pytest.approx(from_file.counterfeit_score, rel=1e-5)
    assert in_memory.verdict == from_file.verdict
    bad = verify_image(tiny_bundle, np.zeros((5,), np.uint8), "junk")
    assert bad.status == "error"


def test_json_has_the_documented_keys(tiny_bundle, pattern_dataset) -> None:
    root, records = pattern_dataset
    doc = [r.to_json() for r in verify_paths(tiny_bundle, [records[0].path, "missing.jpg"])]
    text = json.dumps(doc, allow_nan=False)
    for key in ("path", "status", "error", "denomination", "verdict", "counterfeit_score", "distances",
                "probabilities", "threshold"):
        assert key in doc[0] and key in doc[1]
    assert json.loads(text)[1]["status"] == "error"


def _fake_bundle(blobs, *, threshold: float = 3.0, unknown: float = 10.0) -> ModelBundle:
    x, ids, _ = blobs
    g = Gallery().fit(x, ids)
    cal = Calibration(false_alarm_rate=0.01, thresholds={c: threshold for c in g.classes_},
                      methods={c: "quantile" for c in g.classes_}, unknown_threshold=unknown)
    return ModelBundle({}, {}, {}, g, OneVsRestSVM().fit(x, ids), cal)


def test_verdict_rule(blobs) -> None:
    bundle = _fake_bundle(blobs)
    g = bundle.gallery
    c0, s0 = g.centroids_[0].astype(np.float64), float(g.spreads_[0])
    direction = np.zeros_like(c0)
    direction[0] = 1.0
    direction -= (direction @ c0) / (c0 @ c0) * c0
    direction /= np.linalg.norm(direction)

    def at(score: float) -> np.ndarray:  # a point whose score to class 0 is `score`
        return (c0 + np.sqrt(score * s0) * direction)[None, :]

    emb = np.concatenate([at(1.0), at(5.0), at(5.0), at(7.0), at(50.0)])
    res = score_embeddings(bundle, emb, list("abcde"), note_found=[True, True, False, False, True])
    assert [r.counterfeit_score for r in res] == pytest.approx([1.0, 5.0, 5.0, 7.0, 50.0], rel=1e-4)
    assert res[0].denomination == "CUR/0"
    # No outline + beyond every known note (10 / 1.5) -> unknown; no outline but within range -> suspect.
    assert [r.verdict for r in res] == ["genuine", "suspect", "suspect", "unknown", "unknown"]
    assert all(r.threshold == 3.0 for r in res)


def test_verifier_parameters(tiny_bundle) -> None:
    from banknote_guard.errors import ParameterError

    with pytest.raises(ParameterError, match="batch_size"):
        Verifier(tiny_bundle, batch_size=0)


def test_cancel_stops_a_batch(tiny_bundle, pattern_dataset) -> None:
    from banknote_guard.errors import CancelledError
    from banknote_guard.progress import CancelToken

    root, _ = pattern_dataset
    token = CancelToken()
    seen = []

    def progress(p) -> None:
        seen.append(p.done)
        if p.done > 0:
            token.cancel()

    with pytest.raises(CancelledError):
        Verifier(tiny_bundle, batch_size=4).verify_paths([root], progress=progress, cancel=token)
    assert seen[-1] == 4
