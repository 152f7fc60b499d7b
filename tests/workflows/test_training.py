from __future__ import annotations

import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.model.config import ModelConfig, TrainConfig
from banknote_guard.progress import CancelToken
from banknote_guard.verify.bundle import ModelBundle
from banknote_guard.verify.calibration import FALSE_ALARM_RANGE, CalibrationConfig
from banknote_guard.workflows.training import checkpoint_path_for, train_model


def _tiny_config(epochs: int = 2) -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64),
        pretrained=False, steps_per_epoch=0, epochs=epochs, classes_per_batch=3, images_per_class=4, num_threads=2, augment=False,
    )


def test_train_model_saves_a_complete_model_even_when_cancelled(pattern_dataset, tmp_path) -> None:
    # Cancelled after the first of three epochs: the best weights so far still make a complete model.
    root, _ = pattern_dataset
    stages: list[str] = []
    token = CancelToken()

    def progress(p) -> None:
        stages.append(p.stage)
        if p.stage == "train" and "val AUC" in p.message:
            token.cancel()

    out = train_model(root, tmp_path / "m.bgm", _tiny_config(3),
                      calibration=CalibrationConfig(false_alarm_rate=0.05, svm_kernel="linear"),
                      progress=progress, cancel=token)
    assert out.model_path.exists() and out.cancelled
    assert checkpoint_path_for(out.model_path).exists()
    order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert order.index("train") < order.index("gallery") < order.index("calibrate") < order.index("save")
    loaded = ModelBundle.load(out.model_path)
    assert loaded.denominations == ["TST/0", "TST/1", "TST/2"]
    assert loaded.svm.kernel == "linear" and loaded.calibration.false_alarm_rate == 0.05
    s = loaded.summary
    assert s["cancelled"] is True and loaded.describe()["cancelled"] is True
    assert 1 <= s["epochs_trained"] < 3 and len(s["history"]) == s["epochs_trained"]
    assert s["dataset"]["genuine"] == {"TST/0": 12, "TST/1": 12, "TST/2": 12}
    assert s["dataset"]["train_images"] + s["dataset"]["val_images"] == 48
    for key in ("auc", "catch_rate", "false_alarm_rate", "denomination_accuracy", "svm_accuracy"):
        assert key in out.metrics and key in s["metrics"]
    assert out.metrics["denomination_accuracy"] == pytest.approx(1.0)
    assert set(loaded.calibration.thresholds) == set(loaded.denominations)


def test_bad_settings_fail_before_training(pattern_dataset, tmp_path) -> None:
    root, _ = pattern_dataset
    for far in (2.0, 0.0, 0.0005, 0.25, float("nan"), True):
        with pytest.raises(ParameterError, match="false_alarm_rate"):
            CalibrationConfig(false_alarm_rate=far)
    with pytest.raises(ParameterError, match="kernel"):
        CalibrationConfig(svm_kernel="cubic")
    assert CalibrationConfig(false_alarm_rate=FALSE_ALARM_RANGE[0]).false_alarm_rate == 0.001
    assert CalibrationConfig(false_alarm_rate=FALSE_ALARM_RANGE[1]).false_alarm_rate == 0.2
    with pytest.raises(ParameterError, match="folder"):
        train_model(root, tmp_path, _tiny_config())


def test_build_bundle_can_fit_the_svms_on_held_out_notes(pattern_dataset) -> None:
    import torch

    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.workflows.training import build_bundle

    _, records = pattern_dataset
    cfg = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64)
    torch.manual_seed(0)
    net = EmbeddingNet(cfg)
    train, val = records[::2], records[1::2]
    bundle, metrics = build_bundle(net, cfg, TrainConfig(model=cfg), train, val,
                                    calibration=CalibrationConfig(svm_data="val"))
    assert bundle.summary["svm_data"] == "val"
    assert bundle.svm.classes_ == bundle.denominations
    # Spreads come from the 6 held-out genuine notes of each denomination.
    assert bundle.gallery.spread_sources_ == ["held-out"] * 3
    assert metrics["val_genuine"] == 18 and metrics["val_counterfeit"] == 6
    with pytest.raises(ParameterError, match="svm_data"):
        CalibrationConfig(svm_data="test")


def test_a_single_denomination_without_counterfeits_still_makes_a_model(pattern_dataset) -> None:
    import torch

    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.model.preprocess import load_and_prepare
    from banknote_guard.verify.verifier import score_embeddings
    from banknote_guard.workflows.training import build_bundle

    _, records = pattern_dataset
    only = [r for r in records if r.denom_id == "TST/0" and r.is_genuine]
    cfg = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64)
    torch.manual_seed(0)
    bundle, metrics = build_bundle(EmbeddingNet(cfg), cfg, TrainConfig(model=cfg), only[::2], only[1::2])
    assert bundle.svm.single_class_ and bundle.denominations == ["TST/0"]
    assert metrics["auc"] is None and metrics["catch_rate"] is None and metrics["denomination_accuracy"] == 1.0
    # a model with local evidence also looks at the straightened note (without it: fails closed)
    note = load_and_prepare(only[0].path, cfg)[0]
    res = score_embeddings(bundle, bundle.embedder.embed([note]), ["c"], None, [note])[0]
    assert res.verdict == "genuine" and 0.5 < res.probabilities["TST/0"] <= 1.0
    assert score_embeddings(bundle, bundle.gallery.centroids_, ["c"])[0].verdict == "suspect"
    back = ModelBundle.from_bytes(bundle.to_bytes())
    assert back.svm.single_class_


def test_too_little_data_is_said_loudly_in_the_model_summary(pattern_dataset) -> None:
    """Training on a few notes: thresholds that are defaults or pooled are named, with why."""
    import torch

    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.verify.calibration import calibration_warnings
    from banknote_guard.workflows.training import build_bundle

    _, records = pattern_dataset
    cfg = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64)
    torch.manual_seed(0)
    net = EmbeddingNet(cfg)
    genuine0 = [r for r in records if r.is_genuine and r.denom_id == "TST/0"]
    # nothing held out: every threshold is a default
    bundle, metrics = build_bundle(net, cfg, TrainConfig(model=cfg), genuine0[:5], [])
    warnings = bundle.summary["warnings"]
    assert any(w.startswith("NOT CALIBRATED: TST/0") for w in warnings)
    assert any("not measured" in w for w in warnings)
    assert bundle.describe()["warnings"] == warnings
    # a few held-out notes: pooled thresholds, said with the counts
    bundle, _ = build_bundle(net, cfg, TrainConfig(model=cfg), records[::2], records[1::2])
    assert any(w.startswith("Pooled thresholds: TST/0 (6)") for w in bundle.summary["warnings"])
    assert calibration_warnings(bundle.calibration) == [w for w in bundle.summary["warnings"] if "Pooled" in w]
