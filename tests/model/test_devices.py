"""Devices, mixed precision, loader workers: clear errors without a GPU, and unchanged single-process results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pytest
import torch

from banknote_guard.data.records import Dataset
from banknote_guard.errors import ParameterError
from banknote_guard.model import devices
from banknote_guard.model.config import TrainConfig
from banknote_guard.model.devices import (
    DeviceUnavailableError,
    TrainRuntime,
    default_loader_workers,
    resolve_device,
    resolve_precision,
    use_device,
)
from banknote_guard.model.trainer import TrainResult, train

ConfigFactory = Callable[..., TrainConfig]


@pytest.fixture(autouse=True)
def _no_device_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without a process-wide inference device (use_device sets one)."""
    monkeypatch.setattr(devices, "_requested", None)


def states_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def fake_gpus(monkeypatch: pytest.MonkeyPatch, count: int = 2, bf16: bool = True) -> None:
    """Pretend this machine has ``count`` CUDA GPUs (only the device-choice code asks)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    monkeypatch.setattr(devices, "describe_device", lambda d: f"{d} (a pretend GPU)")


# --- device choice ----------------------------------------------------------------------------------


def test_auto_is_the_cpu_without_a_gpu_and_the_gpu_with_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu") and resolve_device(None) == torch.device("cpu")
    assert resolve_device("CPU ") == torch.device("cpu")
    fake_gpus(monkeypatch)
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("auto", local_rank=1) == torch.device("cuda", 1)  # torchrun: GPU = LOCAL_RANK
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(DeviceUnavailableError, match="cuda:2 does not exist: this machine has 2 CUDA GPU"):
        resolve_device("cuda", local_rank=2)


def test_asking_for_cuda_without_one_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailableError) as info:
        resolve_device("cuda")
    text = str(info.value)
    assert "--device cuda asks for a CUDA GPU" in text and "Use --device cpu" in text
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(DeviceUnavailableError, match="CPU-only build without CUDA support"):
        resolve_device("cuda:0")


def test_mps_and_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "mps_available", lambda: False)
    with pytest.raises(DeviceUnavailableError, match="Apple's Metal GPU"):
        resolve_device("mps")
    for bad in ("gpu", "cpu:1", "mps:0", "cuda:x", ""):
        if bad == "":
            assert resolve_device(bad) == resolve_device("auto")
            continue
        with pytest.raises(ParameterError, match="auto, cpu, cuda, cuda:N or mps"):
            resolve_device(bad)
    assert not isinstance(ParameterError("x"), DeviceUnavailableError)
    assert issubclass(DeviceUnavailableError, ParameterError)


def test_precision_is_mixed_only_on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu).name == "fp32" and not resolve_precision("auto", cpu).enabled
    assert resolve_precision("fp32", cpu).dtype is None
    with pytest.raises(ParameterError, match="mixed precision\\) is for CUDA GPUs"):
        resolve_precision("bf16", cpu)
    with pytest.raises(ParameterError, match="precision"):
        resolve_precision("fp8", cpu)
    gpu = torch.device("cuda", 0)
    fake_gpus(monkeypatch, bf16=True)
    auto = resolve_precision("auto", gpu)
    assert auto.dtype == torch.bfloat16 and not auto.scale_loss and auto.name == "bf16"
    fp16 = resolve_precision("fp16", gpu)
    assert fp16.dtype == torch.float16 and fp16.scale_loss
    fake_gpus(monkeypatch, bf16=False)
    assert resolve_precision("auto", gpu).name == "fp16"
    with pytest.raises(DeviceUnavailableError, match="does not support bfloat16"):
        resolve_precision("bf16", gpu)


def test_use_device_sets_the_inference_device(monkeypatch: pytest.MonkeyPatch) -> None:
    from banknote_guard.model.embedder import Embedder, default_device

    assert devices.requested_device() is None
    assert use_device("cpu") == "cpu" and devices.requested_device() == "cpu"
    assert default_device() == "cpu"
    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.network import EmbeddingNet

    cfg = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64)
    assert Embedder(EmbeddingNet(cfg), cfg).device == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailableError):
        use_device("cuda")
    assert devices.requested_device() == "cpu"  # a refused device changes nothing


def test_runtime_settings_are_checked() -> None:
    TrainRuntime().check()
    with pytest.raises(ParameterError, match="precision"):
        TrainRuntime(precision="half").check()  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="mining_scope"):
        TrainRuntime(mining_scope="everywhere").check()  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="loader_workers"):
        TrainRuntime(loader_workers=-1).check()
    assert default_loader_workers(torch.device("cpu")) == 0
    assert 0 <= default_loader_workers(torch.device("cuda", 0), local_world_size=64) <= 4


# --- training on the chosen hardware ------------------------------------------------------------------


def test_an_impossible_device_or_precision_fails_before_any_image_is_read(
    make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import banknote_guard.model.trainer as trainer

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(trainer, "_prepare", lambda *a, **k: pytest.fail("images were read"))
    with pytest.raises(DeviceUnavailableError, match="CUDA"):
        train(tiny_dataset, make_config(), checkpoint_path=tmp_path / "c.ckpt", runtime=TrainRuntime(device="cuda"))
    with pytest.raises(ParameterError, match="mixed precision"):
        train(tiny_dataset, make_config(), checkpoint_path=tmp_path / "c.ckpt", runtime=TrainRuntime(precision="fp16"))
    assert not (tmp_path / "c.ckpt").exists()


def _reference_first_epoch(config: TrainConfig, result: TrainResult) -> dict[str, torch.Tensor]:
    """The single-process recipe written out by hand: one epoch of P x K batches, augmentation from one
    stream per epoch, the metric loss, AdamW with the warm-up schedule and gradient clipping."""
    from banknote_guard.model.augment import augment_two_views
    from banknote_guard.model.losses import create_loss
    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.model.preprocess import normalize_tensor
    from banknote_guard.model.sampler import PKSampler, training_key
    from banknote_guard.model.trainer import _seed_for, lr_factor

    threads = torch.get_num_threads()
    keys = [training_key(r) for r in result.train_records]
    ids = {k: i for i, k in enumerate(sorted(set(keys)))}
    labels = torch.tensor([ids[k] for k in keys])
    sampler = PKSampler(keys, config.classes_per_batch, config.images_per_class, seed=config.seed)
    total = len(sampler) * config.epochs
    warmup = min(len(sampler), max(1, total // 10))
    torch.manual_seed(_seed_for(config.seed, 0))
    net = EmbeddingNet(config.model)
    loss_fn = create_loss(config)
    opt = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total, warmup))
    sampler.set_epoch(0)
    torch.set_num_threads(config.num_threads or 1)  # the same threads: the same order of float sums
    torch.manual_seed(_seed_for(config.seed, 0, 1))
    stream = torch.Generator().manual_seed(_seed_for(config.seed, 0, 2))
    net.train()
    size = (config.model.image_height, config.model.image_width)
    assert result.train_images is not None
    for batch in sampler:
        full, g = augment_two_views(result.train_images[batch], stream, size)
        z = net(normalize_tensor(full, config.model.backbone), normalize_tensor(g, config.model.backbone))
        loss = loss_fn(z.float(), labels[batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        schedule.step()
    torch.set_num_threads(threads)
    return net.state_dict()


def test_one_process_follows_the_reference_recipe_bit_for_bit(
    make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path
) -> None:
    config = make_config(epochs=1, steps_per_epoch=0)
    result = train(tiny_dataset, config, checkpoint_path=tmp_path / "a.ckpt")
    assert result.best_epoch == 1 and result.hardware["world_size"] == 1
    assert result.hardware["devices"] == [result.hardware["devices"][0]] and result.hardware["devices"][0].startswith("cpu")
    assert result.hardware["precision"] == "fp32" and result.hardware["loader_workers"] == 0
    assert states_equal(result.net.state_dict(), _reference_first_epoch(config, result))
    explicit = train(tiny_dataset, config, checkpoint_path=tmp_path / "b.ckpt",
                     runtime=TrainRuntime(device="cpu", precision="fp32", loader_workers=0, mining_scope="global"))
    assert states_equal(explicit.net.state_dict(), result.net.state_dict())


def test_loader_workers_give_the_same_model_for_any_number_of_workers(
    make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path
) -> None:
    config = make_config(epochs=2, steps_per_epoch=3)
    one = train(tiny_dataset, config, checkpoint_path=tmp_path / "a.ckpt", runtime=TrainRuntime(loader_workers=1))
    two = train(tiny_dataset, config, checkpoint_path=tmp_path / "b.ckpt", runtime=TrainRuntime(loader_workers=2))
    assert one.hardware["loader_workers"] == 1 and two.hardware["loader_workers"] == 2
    assert states_equal(one.net.state_dict(), two.net.state_dict())
    assert [h["train_loss"] for h in one.history] == [h["train_loss"] for h in two.history]
    assert all(math.isfinite(h["train_loss"]) for h in one.history)
    inline = train(tiny_dataset, config, checkpoint_path=tmp_path / "c.ckpt")
    assert not states_equal(inline.net.state_dict(), one.net.state_dict())  # workers seed each batch on its own


def test_train_command_builds_the_runtime_from_its_flags() -> None:
    from banknote_guard.cli import build_parser
    from banknote_guard.commands.train_args import runtime_from_args

    parser = build_parser()
    args = parser.parse_args(["train", "DATA", "--out", "m.bgm"])
    assert runtime_from_args(args) == TrainRuntime()  # the defaults are the engine's
    args = parser.parse_args(["train", "DATA", "--out", "m.bgm", "--device", "cuda:1", "--precision", "fp16",
                              "--loader-workers", "3", "--no-pin-memory", "--mining-scope", "global"])
    assert runtime_from_args(args) == TrainRuntime(device="cuda:1", precision="fp16", loader_workers=3,
                                                   pin_memory=False, mining_scope="global")
    with pytest.raises(ParameterError, match="--loader-workers"):
        runtime_from_args(parser.parse_args(["train", "DATA", "--out", "m.bgm", "--loader-workers", "-2"]))
