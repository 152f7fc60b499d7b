"""Distributed training on the CPU: one process vs 2 gloo processes (torchrun), same samples seen, and the
two mining scopes of the distributed run.

Run:  .venv/bin/python benchmarks/ddp_cpu.py [--quick] [--workdir DIR] [--epochs 8] [--steps 24] [--seeds 0 1]

Protocol:

1. Two synthetic datasets at the "normal" setting (training: 2 currencies x 3 denominations, 24 genuine
   + 12 counterfeit each; test: the same denominations, another seed), generated once into --workdir.
2. Per seed, three trainings of the same configuration (small_cnn from scratch, 64 x 128 input,
   quadruplet loss, P x K = 6 x 4, ``--steps`` batches per epoch, ``--epochs`` epochs), each a separate
   command as a person would type it:
   - ``one``:    ``banknote-guard train ... --threads 2`` (one process using both cores);
   - ``one1``:   the same with ``--threads 1`` (one process, one core: what each distributed process has);
   - ``rank``:   ``torchrun --nproc-per-node 2 -m banknote_guard train ... --threads 1 --mining-scope rank``;
   - ``global``: the same with ``--mining-scope global`` (the loss sees both processes' embeddings).
   The distributed sampler shares out the single-process epoch's batches, so every run sees the same
   samples (the two processes take ``--steps``/2 optimiser steps each per epoch, on twice the batch).
3. Figures: training images/s (optimiser steps only, all processes together, from the model's
   summary), the wall time of the whole command, the validation AUC of the best epoch, and the
   counterfeit-vs-genuine ROC AUC of ``evaluate`` on the test set. Mean over seeds.
4. The price of the global mining scope on each process: the default loss (quadruplet, every valid
   tuple) forward + backward over the gathered embeddings of N processes with the default batch
   (8 x 4 = 32 each, 64-d), for N = 1, 2, 4, 8 (N = 1 is the "rank" scope at any N).

On a 2-core machine two processes share the two cores that one process uses with 2 threads, so the
speed figure shows the cost of the process group rather than a gain; on a GPU server each process
has its own GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _benchutil import COMMAND_ENV, command_line, machine_header, mean_std

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def datasets(workdir: Path, quick: bool) -> tuple[Path, Path]:
    from banknote_guard.synth.generator import SynthOptions, generate_dataset

    out = []
    for name, seed in (("train", 11), ("test", 12)):
        root = workdir / f"ddp_{name}{'_quick' if quick else ''}"
        if not (root / "manifest.csv").exists():
            generate_dataset(root, SynthOptions(
                currencies=2, denominations_per_currency=2 if quick else 3, genuine_per_denomination=12 if quick else 24,
                counterfeit_per_denomination=6 if quick else 12, note_width=320, seed=seed, contact_sheet=False,
            ))
        out.append(root)
    return out[0], out[1]


def run(kind: str, data: Path, model: Path, epochs: int, steps: int, seed: int) -> float:
    """Train one way; returns the wall seconds of the command."""
    flags = ["train", str(data), "--out", str(model), "--backbone", "small_cnn", "--no-pretrained",
             "--image-size", "64x128", "--epochs", str(epochs), "--steps-per-epoch", str(steps),
             "--classes-per-batch", "6", "--images-per-class", "4", "--lr", "2e-3", "--patience", "99",
             "--seed", str(seed), "--device", "cpu", "--far", "0.05"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo on the loopback, whatever the host name resolves to
    if kind in ("one", "one1"):
        cmd = [sys.executable, "-m", "banknote_guard", *flags, "--threads", "2" if kind == "one" else "1"]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", "--master-addr=127.0.0.1",
               f"--master-port={free_port()}", "-m", "banknote_guard", *flags, "--threads", "1",
               "--mining-scope", kind]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def figures(model: Path, test: Path) -> dict[str, float]:
    from banknote_guard.api import evaluate, load_model

    bundle = load_model(model)
    s = bundle.summary
    best = s["history"][s["best_epoch"] - 1]
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluate(bundle, test, Path(tmp), embedding_map=False)
    auc = report.metrics.get("roc_auc")
    return {"images_per_second": float(s["images_per_second"]), "val_auc": float(best["val_auc"]),
            "test_auc": float("nan") if auc is None else float(auc), "train_seconds": float(s["train_seconds"]),
            "world_size": int(s["world_size"]), "final_loss": float(s["history"][-1]["train_loss"])}


def loss_cost(repeats: int) -> list[tuple[int, float]]:
    """(N, milliseconds) of the default loss forward + backward over N x 32 gathered embeddings."""
    import torch

    from banknote_guard.model.config import TrainConfig
    from banknote_guard.model.losses import create_loss

    loss_fn = create_loss(TrainConfig())
    out = []
    for n in (1, 2, 4, 8):
        g = torch.Generator().manual_seed(n)
        z = torch.nn.functional.normalize(torch.randn(32 * n, 64, generator=g), dim=1).requires_grad_()
        y = torch.arange(32 * n) // 4  # P x K batches of 8 classes x 4 images per process
        y = y % (8 * max(1, n // 2) + 4)  # some classes on several processes, as the distributed sampler gives
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            loss_fn(z, y).backward()
            times.append(time.perf_counter() - start)
        out.append((n, 1000 * float(np.median(times))))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, 2 epochs, one seed (a check that it runs)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the datasets are generated and kept")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 8; quick 2)")
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch, all processes together (default 24)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="training seeds (default 0 1; quick 0)")
    args = parser.parse_args()
    os.environ.setdefault(COMMAND_ENV, command_line())
    epochs = args.epochs or (2 if args.quick else 8)
    steps = args.steps or (6 if args.quick else 24)
    seeds = args.seeds or ([0] if args.quick else [0, 1])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ddp_cpu_"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(machine_header("Distributed training on the CPU: 1 process vs 2 gloo processes", torch_threads=2))
    train_root, test_root = datasets(workdir, args.quick)
    print("loss forward + backward per step over the embeddings of N processes (default loss, 32 per process):")
    for n, ms in loss_cost(2 if args.quick else 5):
        print(f"  N = {n}: {ms:8.1f} ms")
    print(f"data: {train_root} (training), {test_root} (test); {epochs} epochs x {steps} batches of 6 x 4 per epoch "
          f"(= {epochs * steps * 24} training images seen by every run); seeds {seeds}")
    rows: dict[str, list[dict[str, float]]] = {"one": [], "one1": [], "rank": [], "global": []}
    for seed in seeds:
        for kind in rows:
            model = workdir / f"{kind}_{seed}.bgm"
            for old in (model, model.with_name(model.name + ".ckpt")):
                old.unlink(missing_ok=True)
            wall = run(kind, train_root, model, epochs, steps, seed)
            f = figures(model, test_root)
            f["wall_seconds"] = wall
            rows[kind].append(f)
            print(f"  seed {seed} {kind:<6}: {json.dumps({k: round(v, 4) for k, v in f.items()})}", flush=True)
    print()
    print(f"{'run':<28} {'images/s':>9} {'train s':>8} {'wall s':>7} {'val AUC':>8} {'test AUC':>9}")
    names = {"one": "1 process, 2 threads", "one1": "1 process, 1 thread", "rank": "2 processes, mining in rank",
             "global": "2 processes, global mining"}
    for kind, values in rows.items():
        def m(key: str) -> str:
            mean, std = mean_std([v[key] for v in values])
            return f"{mean:.3f}" + (f"+-{std:.3f}" if len(values) > 1 and np.isfinite(std) and key.endswith("auc") else "")

        ips, _ = mean_std([v["images_per_second"] for v in values])
        tr, _ = mean_std([v["train_seconds"] for v in values])
        wall, _ = mean_std([v["wall_seconds"] for v in values])
        print(f"{names[kind]:<28} {ips:>9.1f} {tr:>8.1f} {wall:>7.1f} {m('val_auc'):>8} {m('test_auc'):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
