"""Distributed training: the distributed P x K sampler, torchrun launch variables, gloo collectives, and
``torchrun --nproc-per-node 2 -m banknote_guard train`` on the CPU (trains, checkpoints, resumes with 1)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from banknote_guard.data.records import Dataset
from banknote_guard.errors import ParameterError
from banknote_guard.model.config import TrainConfig
from banknote_guard.model.distributed import DistContext, launch_info
from banknote_guard.model.sampler import PKSampler

ConfigFactory = Callable[..., TrainConfig]
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun(nproc: int, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``torchrun --nproc-per-node nproc ARGS`` on 127.0.0.1 with a free port (gloo on the CPU)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.pop("CUDA_VISIBLE_DEVICES", None)
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo on the loopback, whatever the host name resolves to
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}", "--master-addr=127.0.0.1",
           f"--master-port={free_port()}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


# --- the distributed P x K sampler -----------------------------------------------------------------------


def keys(n_denoms: int = 5, per_class: int = 9) -> list[str]:
    return [f"C/{d}|{label}" for d in range(n_denoms) for label in ("genuine", "counterfeit") for _ in range(per_class)]


@pytest.mark.parametrize("world", [2, 3])
def test_the_processes_share_out_exactly_the_single_process_batches(world: int) -> None:
    single = PKSampler(keys(), 4, 3, seed=5, batches_per_epoch=9)
    single.set_epoch(2)
    reference = list(single)
    parts = []
    for rank in range(world):
        s = PKSampler(keys(), 4, 3, seed=5, batches_per_epoch=9, rank=rank, world_size=world)
        s.set_epoch(2)
        parts.append(list(s))
        assert len(s) == -(-9 // world) == len(parts[-1]) and s.global_batches == len(s) * world
    # Batch j of the epoch goes to process j % world; the first 9 are the single-process epoch.
    interleaved = [parts[j % world][j // world] for j in range(len(parts[0]) * world)]
    assert interleaved[:9] == reference
    # Each process has its own classes per step (different denominations on the two processes).
    first = [{single.keys[i] for i in part[0]} for part in parts]
    assert first[0] != first[1]


def test_sampler_checks_rank_and_world_size() -> None:
    with pytest.raises(ParameterError, match="world_size"):
        PKSampler(keys(), 4, 3, world_size=0)
    with pytest.raises(ParameterError, match="rank"):
        PKSampler(keys(), 4, 3, rank=2, world_size=2)


# --- launch variables and the one-process context --------------------------------------------------------


def test_launch_info_reads_torchrun_variables() -> None:
    assert launch_info({}) is None
    info = launch_info({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert info is not None and (info.rank, info.world_size, info.local_rank, info.local_world_size) == (3, 4, 1, 2)
    for bad in ({"RANK": "x", "WORLD_SIZE": "2"}, {"RANK": "2", "WORLD_SIZE": "2"}, {"WORLD_SIZE": "0"}):
        with pytest.raises(ParameterError, match="torchrun"):
            launch_info(bad)


def test_one_process_context_does_nothing_collective() -> None:
    ctx = DistContext()
    rows = np.arange(6).reshape(3, 2)
    assert not ctx.distributed and ctx.is_main
    assert ctx.gather_rows(rows, 3) is rows and ctx.shard([1, 2, 3]) == [1, 2, 3]
    assert ctx.any_true(True) and not ctx.any_true(False)
    assert ctx.broadcast_object(7) == 7 and ctx.all_gather_object("a") == ["a"] and ctx.on_main(lambda: 5) == 5
    assert ctx.describe()["world_size"] == 1


def test_a_world_of_one_under_torchrun_is_a_plain_run() -> None:
    from banknote_guard.model.distributed import distributed_session

    with distributed_session("cpu", environ={"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}) as ctx:
        assert not ctx.distributed and ctx.backend is None


# --- two gloo processes ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_collectives_and_a_cancel_all_processes_obey(make_config: ConfigFactory, tiny_dataset: Dataset, tmp_path: Path) -> None:
    config = make_config(epochs=4, steps_per_epoch=6)
    config.model.detail_patches = 0
    done = torchrun(2, str(HERE / "ddp_probe.py"), str(tmp_path), str(tiny_dataset.root), json.dumps(config.to_dict()))
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for r, rep in enumerate(reports):
        assert rep["rank"] == r and rep["world_size"] == 2 and rep["backend"] == "gloo"
        assert rep["gather"] and rep["gather_chunked"]
        assert rep["any_true"] == [True, False] and rep["broadcast"] == {"from": 0} and rep["gathered_objects"] == [0, 10]
        assert rep["on_main_error"] == "the checkpoint is from another dataset"  # raised on every process
        assert rep["global_loss_equal"] and rep["global_grad_equal"]
    # Only rank 1 was cancelled, in epoch 2: both stopped after the same step and kept epoch 1.
    t0, t1 = reports[0]["training"], reports[1]["training"]
    assert t0["cancelled"] and t1["cancelled"] and t0["epochs"] == t1["epochs"] == 1
    assert t0["last_step"] == t1["last_step"] == 4  # 3 steps per process per epoch, stopped after the first of epoch 2
    assert t0["world_size"] == 2 and len(t0["devices"]) == 2 and t0["devices"][0].startswith("cpu")


@pytest.mark.slow
def test_torchrun_two_processes_train_checkpoint_and_resume_with_one(tiny_dataset: Dataset, tmp_path: Path) -> None:
    from banknote_guard.api import TrainRuntime, load_model, train_model
    from banknote_guard.model.trainer import load_checkpoint

    model = tmp_path / "ddp.bgm"
    flags = ["--backbone", "small_cnn", "--no-pretrained", "--embedding-dim", "16", "--image-size", "32x64",
             "--steps-per-epoch", "6", "--classes-per-batch", "4", "--images-per-class", "4", "--lr", "3e-3",
             "--val-fraction", "0.3", "--threads", "1", "--far", "0.05"]
    done = torchrun(2, "-m", "banknote_guard", "train", str(tiny_dataset.root), "--out", str(model),
                    "--epochs", "3", "--device", "cpu", *flags)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Model saved to") == 1  # rank 0 alone reports and writes
    assert "2 processes, gloo" in done.stdout

    bundle = load_model(model)  # a valid model file
    s = bundle.summary
    assert s["world_size"] == 2 and len(s["devices"]) == 2 and s["hardware"]["backend"] == "gloo"
    losses = [h["train_loss"] for h in s["history"]]
    assert len(losses) == 3 and losses[-1] < losses[0]  # the loss goes down
    state = load_checkpoint(model.with_name(model.name + ".ckpt"))
    assert state["epoch"] == 3 and state["world_size"] == 2 and state["steps_per_epoch"] == 3

    # Resume the same run with one process for two more epochs: the schedule moves to 6 steps per epoch.
    from banknote_guard.api import ModelConfig

    config = TrainConfig(
        model=ModelConfig(backbone="small_cnn", embedding_dim=16, image_height=32, image_width=64), pretrained=False,
        epochs=5, steps_per_epoch=6, classes_per_batch=4, images_per_class=4, learning_rate=3e-3, val_fraction=0.3,
        num_threads=1,
    )
    from banknote_guard.api import CalibrationConfig

    outcome = train_model(tiny_dataset.root, model, config, resume=True, runtime=TrainRuntime(device="cpu"),
                          calibration=CalibrationConfig(false_alarm_rate=0.05))
    assert outcome.bundle is not None and [h["epoch"] for h in outcome.history] == [1, 2, 3, 4, 5]
    assert outcome.history[:3] == s["history"]
    sessions = outcome.hardware["sessions"]
    assert [(x["from_epoch"], x["world_size"]) for x in sessions] == [(1, 2), (4, 1)]
    resumed = load_checkpoint(model.with_name(model.name + ".ckpt"))
    assert resumed["epoch"] == 5 and resumed["world_size"] == 1 and resumed["steps_per_epoch"] == 6
    assert resumed["scheduler"]["last_epoch"] == 3 * 6 + 2 * 6  # placed on the new steps, then 2 epochs
    assert load_model(model).summary["world_size"] == 1
