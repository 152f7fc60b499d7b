"""Evaluation figures, plots and the ``evaluate`` command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn import metrics as skm
from sklearn.decomposition import PCA

from banknote_guard.data.records import ImageRecord
from banknote_guard.evaluation import plots
from banknote_guard.evaluation.evaluate import EvaluationReport, evaluate_results
from banknote_guard.verify.result import VerificationResult


def _fake_run(seed: int = 0) -> tuple[list[ImageRecord], list[VerificationResult]]:
    """Records of 3 denominations (one with no counterfeits) and results with known scores."""
    rng = np.random.default_rng(seed)
    records: list[ImageRecord] = []
    results: list[VerificationResult] = []
    methods = ["inkjet", "high_quality"]
    for denom, n_fake in (("AAA/5", 20), ("AAA/10", 20), ("BBB/1", 0)):
        cur, den = denom.split("/")
        for i in range(60):
            records.append(ImageRecord(Path(f"/d/{denom}/genuine/{i}.jpg"), cur, den, "genuine"))
            score = float(rng.normal(1.0, 0.3))
            # Genuine notes of AAA/10 are sometimes taken for AAA/5; one in 60 is unknown.
            pred = "AAA/5" if denom == "AAA/10" and i < 6 else denom
            verdict = "unknown" if i == 59 else ("suspect" if score > 1.6 else "genuine")
            results.append(VerificationResult(str(records[-1].path), denomination=pred, verdict=verdict,
                                              counterfeit_score=score, threshold=1.6))
        for i in range(n_fake):
            method = methods[i % 2]
            records.append(ImageRecord(Path(f"/d/{denom}/counterfeit/{i}.jpg"), cur, den, "counterfeit", method=method))
            mean = 3.0 if method == "inkjet" else 1.5
            score = float(rng.normal(mean, 0.3))
            results.append(VerificationResult(str(records[-1].path), denomination=denom,
                                              verdict="suspect" if score > 1.6 else "genuine",
                                              counterfeit_score=score, threshold=1.6))
    records.append(ImageRecord(Path("/d/AAA/5/genuine/broken.jpg"), "AAA", "5", "genuine"))
    results.append(VerificationResult.failed(str(records[-1].path), "not a readable image"))
    return records, results


def test_figures_agree_with_sklearn_and_the_verdicts() -> None:
    records, results = _fake_run()
    overall, per_denom, per_method, per_group, confusion, warnings = evaluate_results(
        records, results, known_denominations=["AAA/5", "AAA/10", "BBB/1"],
        groups={"trained": ["AAA/5", "AAA/10"], "enrolled": ["BBB/1"]},
    )
    ok = [(rec, res) for rec, res in zip(records, results) if res.ok]
    y = np.array([0 if rec.is_genuine else 1 for rec, _ in ok])
    s = np.array([res.counterfeit_score for _, res in ok])
    assert overall["n_images"] == 221 and overall["n_errors"] == 1
    assert overall["n_genuine"] == 180 and overall["n_counterfeit"] == 40
    assert overall["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    flagged_genuine = sum(1 for rec, res in ok if rec.is_genuine and res.verdict != "genuine")
    assert overall["false_alarms_per_10k"] == pytest.approx(10000 * flagged_genuine / 180)
    caught = sum(1 for rec, res in ok if not rec.is_genuine and res.verdict != "genuine")
    assert overall["catch_rate_at_model_thresholds"] == pytest.approx(caught / 40)
    # 6 of AAA/10 confused with AAA/5, and one unknown per denomination.
    assert overall["denomination_accuracy"] == pytest.approx((180 - 6 - 3) / 180)
    assert any("could not be verified" in w for w in warnings)

    assert set(per_denom) == {"AAA/5", "AAA/10", "BBB/1"}
    assert math.isnan(per_denom["BBB/1"]["roc_auc"])  # no counterfeits: undefined, not an error
    assert per_denom["AAA/10"]["denomination_accuracy"] == pytest.approx(53 / 60)

    assert set(per_method) == {"inkjet", "high_quality"}
    assert per_method["inkjet"]["n_counterfeit"] == 20 and per_method["inkjet"]["n_genuine"] == 180
    assert per_method["inkjet"]["roc_auc"] > 0.99 > per_method["high_quality"]["roc_auc"] > 0.6

    assert per_group["enrolled"]["n_counterfeit"] == 0 and per_group["trained"]["n_counterfeit"] == 40
    assert per_group["enrolled"]["denominations"] == ["BBB/1"]

    assert confusion["columns"] == confusion["labels"] + ["unknown"]
    m = np.array(confusion["matrix"])
    row = confusion["labels"].index("AAA/10")
    assert m[row, confusion["labels"].index("AAA/5")] == 6
    assert m[row, -1] == 1 and m.sum() == 180


def test_unknown_denominations_are_named_and_left_out_of_accuracy() -> None:
    records, results = _fake_run()
    overall, *_, warnings = evaluate_results(records, results, known_denominations=["AAA/5", "AAA/10"])
    assert any("BBB/1" in w and "enroll" in w for w in warnings)
    assert overall["denomination_accuracy"] == pytest.approx((120 - 6 - 2) / 120)


def test_report_json_is_strict_json_and_text_is_readable(tmp_path: Path) -> None:
    records, results = _fake_run()
    overall, per_denom, per_method, per_group, confusion, warnings = evaluate_results(records, results)
    report = EvaluationReport(tmp_path, {"path": "m.bgm"}, overall, per_denom, per_method, per_group, confusion,
                              results, records, warnings=warnings)
    text = json.dumps(report.to_json(), allow_nan=False)  # NaN must have become null
    data = json.loads(text)
    assert data["per_denomination"]["BBB/1"]["roc_auc"] is None
    assert len(data["results"]) == len(records)
    assert data["results"][-1]["status"] == "error"
    assert {r["true_label"] for r in data["results"]} == {"genuine", "counterfeit"}
    summary = report.format_text()
    assert "ROC AUC" in summary and "inkjet" in summary and "AAA/10" in summary
    assert f"{overall['roc_auc']:.4f}" in summary


def test_pca_2d_matches_sklearn_up_to_sign() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 8)) @ rng.normal(size=(8, 8))
    c = rng.normal(size=(3, 8))
    ours, ours_c = plots.pca_2d(x, c)
    pca = PCA(n_components=2).fit(x)
    ref, ref_c = pca.transform(x), pca.transform(c)
    for k in range(2):
        sign = np.sign(ours[:, k] @ ref[:, k])
        np.testing.assert_allclose(ours[:, k], sign * ref[:, k], atol=1e-8)
        np.testing.assert_allclose(ours_c[:, k], sign * ref_c[:, k], atol=1e-8)


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def test_plots_write_readable_pngs(tmp_path: Path) -> None:
    records, results = _fake_run()
    ok = [(rec, res) for rec, res in zip(records, results) if res.ok]
    y = np.array([0 if rec.is_genuine else 1 for rec, _ in ok])
    s = np.array([res.counterfeit_score for _, res in ok])
    roc = plots.plot_roc({"all": (y, s), "only genuine": (np.zeros(5, int), np.ones(5))}, tmp_path / "roc.png",
                         operating_points={"model": (0.02, 0.8)})
    assert _png_size(roc)[0] > 800
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(ok), 16))
    names = [rec.denom_id for rec, _ in ok]
    centroids = {d: emb[[n == d for n in names]].mean(0) for d in set(names)}
    path = plots.plot_embeddings(emb, names, [not rec.is_genuine for rec, _ in ok], tmp_path / "emb.png",
                                 centroids=centroids, highlight=["BBB/1"])
    assert _png_size(path)[0] > 600
    assert _png_size(plots.plot_scores(s[y == 0], s[y == 1], tmp_path / "s.png", thresholds={"t": 1.6}))[0] > 400
    m = np.array([[5, 1, 0], [2, 4, 1]])
    assert _png_size(plots.plot_confusion(m, ["A", "B"], tmp_path / "c.png"))[0] > 200
    # No partial or temporary files are left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "emb.png", "roc.png", "s.png"]


# --- evaluate() on real image files, with a real (untrained, so fast) network ------------------------


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory: pytest.TempPathFactory):
    """A generated dataset (2 denominations, manifest with methods) and a model built on it."""
    import torch

    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.synth.generator import SynthOptions, generate_dataset
    from banknote_guard.workflows.training import build_bundle

    root = tmp_path_factory.mktemp("tiny") / "data"
    generate_dataset(root, SynthOptions(currencies=1, denominations_per_currency=2, genuine_per_denomination=10,
                                        counterfeit_per_denomination=4, note_width=200, jobs=1, contact_sheet=False,
                                        seed=3, methods=("inkjet", "laser")))
    torch.manual_seed(0)
    config = ModelConfig(backbone="small_cnn", embedding_dim=16, image_height=32, image_width=64)
    records = discover_dataset(root).records
    bundle, _ = build_bundle(EmbeddingNet(config), config, TrainConfig(model=config),
                             [r for r in records if r.is_genuine][::2], [r for r in records if r.is_genuine][1::2])
    return root, bundle


def test_evaluate_on_image_files_writes_json_and_plots(tiny_setup, tmp_path: Path) -> None:
    from banknote_guard.api import evaluate
    from banknote_guard.evaluation import metrics
    from banknote_guard.progress import Progress

    root, bundle = tiny_setup
    broken = root / "KRT" / "5" / "genuine" / "zz_broken.jpg"
    broken.write_bytes(b"not an image")
    try:
        seen: list[Progress] = []
        report = evaluate(bundle, root, tmp_path / "ev", progress=seen.append)
    finally:
        broken.unlink()
    assert {p.stage for p in seen} >= {"verify", "plots"}
    assert len(report.results) == len(report.records) == 29
    assert [Path(r.path).name for r in report.results] == [rec.path.name for rec in report.records]
    assert report.metrics["n_errors"] == 1 and any("zz_broken.jpg" in w for w in report.warnings)
    ok = [(rec, res) for rec, res in zip(report.records, report.results) if res.ok]
    y = [0 if rec.is_genuine else 1 for rec, _ in ok]
    s = [res.counterfeit_score for _, res in ok]
    assert report.metrics["roc_auc"] == pytest.approx(metrics.roc_auc(y, s))
    assert set(report.per_method) == {"inkjet", "laser"}
    assert set(report.per_denomination) == {"KRT/5", "KRT/10"}
    assert list(report.per_denomination) == ["KRT/5", "KRT/10"]  # by face value
    assert report.per_group == {}  # nothing was enrolled after training
    for name in ("roc", "scores", "confusion", "embeddings", "roc_methods"):
        assert _png_size(report.plots[name])[0] > 200, name
    data = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert data["metrics"]["n_images"] == 29 and len(data["results"]) == 29
    assert data["model"]["denominations"] == ["KRT/10", "KRT/5"]


def test_evaluate_stops_when_cancelled(tiny_setup, tmp_path: Path) -> None:
    from banknote_guard.errors import CancelledError
    from banknote_guard.evaluation.evaluate import evaluate
    from banknote_guard.progress import CancelToken

    root, bundle = tiny_setup
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        evaluate(bundle, root, tmp_path / "ev", cancel=token)
    assert not (tmp_path / "ev" / "evaluation.json").exists()


def test_evaluate_refuses_a_folder_that_is_not_a_dataset(tiny_setup, tmp_path: Path) -> None:
    from banknote_guard.errors import DatasetLayoutError
    from banknote_guard.evaluation.evaluate import evaluate

    _, bundle = tiny_setup
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetLayoutError):
        evaluate(bundle, tmp_path / "empty")
