"""The training loop: learning, early stopping, checkpoints, resume, cancel, determinism."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from banknote_guard.data.records import Dataset
from banknote_guard.errors import CancelledError, ModelFileError, ParameterError
from banknote_guard.model.config import TrainConfig
from banknote_guard.model.network import EmbeddingNet
from banknote_guard.model.preprocess import load_and_prepare
from banknote_guard.model.trainer import TrainResult, load_checkpoint, lr_factor, train
from banknote_guard.model.validation import catch_rate_at, verification_metrics
from banknote_guard.progress import CancelToken, Progress

ConfigFactory = Callable[..., TrainConfig]



def _val_auc(net: EmbeddingNet, result: TrainResult) -> float:
    from banknote_guard.model.embedder import Embedder

    config = result.model_config
    emb = Embedder(net, config, device="cpu")
    ref = [r for r in result.train_records if r.is_genuine]
    ref_e = emb.embed([load_and_prepare(r.path, config)[0] for r in ref])
    val_e = emb.embed([load_and_prepare(r.path, config)[0] for r in result.val_records])
    m = verification_metrics(ref_e, [r.denom_id for r in ref], val_e, [r.denom_id for r in result.val_records],
                             [r.is_genuine for r in result.val_records])
    return m["auc"]


def states_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def trained(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, Path, list[Progress]]:
    reports: list[Progress] = []
    ckpt = tmp_path_factory.mktemp("run") / "train.ckpt"
    result = train(tiny_dataset, make_config(epochs=5), checkpoint_path=ckpt, progress=reports.append)
    return result, ckpt, reports


def test_training_separates_counterfeits_better_than_random_init(trained: tuple[TrainResult, Path, list[Progress]]) -> None:
    result, _, _ = trained
    torch.manual_seed(123)
    untrained = EmbeddingNet(result.model_config).eval()
    before, after = _val_auc(untrained, result), _val_auc(result.net, result)
    assert after >= 0.9 and after > before
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert not result.net.training and not result.cancelled


def test_result_and_history_describe_the_run(trained: tuple[TrainResult, Path, list[Progress]], tiny_dataset: Dataset) -> None:
    result, _, _ = trained
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5]
    for h in result.history:
        assert {"train_loss", "val_auc", "val_catch_rate", "val_denom_accuracy", "val_score", "seconds", "lr"} <= set(h)
    best = max(h["val_score"] for h in result.history)
    assert result.history[result.best_epoch - 1]["val_score"] == best
    assert {r.path for r in result.train_records} | {r.path for r in result.val_records} == {r.path for r in tiny_dataset.records}
    assert result.images_per_second > 0 and result.seconds > 0
    # Genuine-only denomination trained and validated.
    assert any(r.denom_id == "TST/50" for r in result.val_records)


def test_progress_reports_prepare_then_train(trained: tuple[TrainResult, Path, list[Progress]]) -> None:
    _, _, reports = trained
    stages = [p.stage for p in reports]
    assert stages[0] == "prepare" and "train" in stages
    assert stages.index("train") > max(i for i, s in enumerate(stages) if s == "prepare")
    train_reports = [p for p in reports if p.stage == "train"]
    assert train_reports[-1].done == train_reports[-1].total
    assert all(p.eta_s is not None for p in train_reports)
    assert {"epoch", "loss"} <= set(train_reports[0].metrics)
    assert any("val_auc" in p.metrics for p in train_reports)


def test_checkpoint_is_plain_data_and_holds_the_run(trained: tuple[TrainResult, Path, list[Progress]]) -> None:
    result, ckpt, _ = trained
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert state["epoch"] == 5 and state["best_epoch"] == result.best_epoch
    assert state["model_config"] == result.model_config.to_dict()
    assert state["train_config"]["epochs"] == 5 and len(state["history"]) == 5
    assert states_equal(state["best_state"], result.net.state_dict())
    assert not list(ckpt.parent.glob(".*.tmp"))


def test_same_seed_same_weights_and_resume_matches_an_uninterrupted_run(make_config: ConfigFactory, 
    trained: tuple[TrainResult, Path, list[Progress]], tiny_dataset: Dataset, tmp_path: Path
) -> None:
    reference, _, _ = trained
    config = make_config(epochs=5)
    ckpt = tmp_path / "c.ckpt"
    cancel = CancelToken()

    def stop_in_third_epoch(p: Progress) -> None:
        if p.stage == "train" and p.metrics.get("epoch") == 3:
            cancel.cancel()

    partial = train(tiny_dataset, config, checkpoint_path=ckpt, progress=stop_in_third_epoch, cancel=cancel)
    assert partial.cancelled and len(partial.history) == 2
    assert load_checkpoint(ckpt)["epoch"] == 2
    resumed = train(tiny_dataset, config, checkpoint_path=ckpt, resume=True)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4, 5]
    assert resumed.history[:2] == partial.history
    # Same seed and data: the same weights as the uninterrupted run of the fixture.
    assert states_equal(resumed.net.state_dict(), reference.net.state_dict())
    assert [h["train_loss"] for h in resumed.history] == pytest.approx([h["train_loss"] for h in reference.history])


def test_cancel_stops_quickly_and_keeps_a_loadable_checkpoint(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    ckpt = tmp_path / "c.ckpt"
    cancel = CancelToken()
    moments: list[float] = []

    def stop_in_second_epoch(p: Progress) -> None:
        if p.stage == "train" and p.metrics.get("epoch") == 2 and not moments:
            moments.append(time.monotonic())
            cancel.cancel()

    result = train(tiny_dataset, make_config(epochs=50), checkpoint_path=ckpt, progress=stop_in_second_epoch, cancel=cancel)
    assert time.monotonic() - moments[0] < 3.0
    assert result.cancelled and result.best_epoch == 1 and len(result.history) == 1
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert state["epoch"] == 1
    net = EmbeddingNet(result.model_config)
    net.load_state_dict(state["best_state"])


def test_cancel_before_the_first_epoch_raises(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    cancel = CancelToken()

    def stop_at_once(p: Progress) -> None:
        if p.stage == "train":
            cancel.cancel()

    with pytest.raises(CancelledError):
        train(tiny_dataset, make_config(), checkpoint_path=tmp_path / "c.ckpt", progress=stop_at_once, cancel=cancel)
    assert not (tmp_path / "c.ckpt").exists()


def test_resume_refuses_a_checkpoint_of_other_settings(make_config: ConfigFactory, trained: tuple[TrainResult, Path, list[Progress]], tiny_dataset: Dataset) -> None:
    _, ckpt, _ = trained
    with pytest.raises(ParameterError, match="margin"):
        train(tiny_dataset, make_config(epochs=5, margin=0.9), checkpoint_path=ckpt, resume=True)
    smaller = Dataset(tiny_dataset.root, tiny_dataset.records[2:])
    with pytest.raises(ParameterError, match="training images differ"):
        train(smaller, make_config(epochs=5), checkpoint_path=ckpt, resume=True)


def test_resume_of_a_finished_run_returns_its_best_weights(make_config: ConfigFactory, trained: tuple[TrainResult, Path, list[Progress]], tiny_dataset: Dataset) -> None:
    reference, ckpt, _ = trained
    again = train(tiny_dataset, make_config(epochs=5), checkpoint_path=ckpt, resume=True)
    assert again.history == reference.history and again.best_epoch == reference.best_epoch
    assert states_equal(again.net.state_dict(), reference.net.state_dict())


def test_unreadable_checkpoint_is_a_model_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"garbage")
    with pytest.raises(ModelFileError):
        load_checkpoint(bad)
    torch.save({"format": "something else"}, bad)
    with pytest.raises(ModelFileError, match="not a banknote_guard"):
        load_checkpoint(bad)


def test_early_stopping_and_bad_images(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    from banknote_guard.data.records import ImageRecord

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    records = tiny_dataset.records + [ImageRecord(broken, "TST", "5", "genuine")]
    data = Dataset(tiny_dataset.root, records)
    result = train(data, make_config(epochs=30, patience=1, learning_rate=1e-6), checkpoint_path=tmp_path / "c.ckpt")
    assert result.stopped_early and len(result.history) < 30
    assert [p for p, _ in result.failures] == [broken]


def test_too_few_classes_and_bad_settings(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    one_class = Dataset(tiny_dataset.root, tiny_dataset.genuine("TST/5"))
    with pytest.raises(ParameterError, match="at least two classes"):
        train(one_class, make_config(), checkpoint_path=tmp_path / "c.ckpt")
    with pytest.raises(ParameterError, match="epochs"):
        train(tiny_dataset, make_config(epochs=0), checkpoint_path=tmp_path / "c.ckpt")


def test_lr_schedule_warms_up_then_decays() -> None:
    values = [lr_factor(s, 100, 10) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(values[10:], values[11:])) and values[-1] < 0.05


def test_catch_rate_at_false_alarm() -> None:
    genuine = np.arange(100, dtype=float)  # 1 % false alarm: threshold at 98
    assert catch_rate_at(genuine, np.array([98.5, 99.5, 50.0, 120.0]), 0.01) == pytest.approx(0.75)


def test_steps_per_epoch_sets_the_batches_of_an_epoch(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    reports: list[Progress] = []
    config = make_config(epochs=2, steps_per_epoch=3)
    result = train(tiny_dataset, config, checkpoint_path=tmp_path / "c.ckpt", progress=reports.append)
    steps = [p for p in reports if p.stage == "train" and p.total]
    assert steps and steps[-1].total == 2 * 3
    assert len(result.history) == 2
    with pytest.raises(ParameterError, match="steps_per_epoch"):
        train(tiny_dataset, make_config(steps_per_epoch=-1), checkpoint_path=tmp_path / "d.ckpt")


def test_resume_accepts_a_checkpoint_written_before_a_setting_existed(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    ckpt = tmp_path / "old.ckpt"
    train(tiny_dataset, make_config(epochs=1), checkpoint_path=ckpt)
    state = torch.load(ckpt, weights_only=True)
    del state["train_config"]["steps_per_epoch"]  # as written by an older version
    torch.save(state, ckpt)
    result = train(tiny_dataset, make_config(epochs=2), checkpoint_path=ckpt, resume=True)
    assert len(result.history) == 2
