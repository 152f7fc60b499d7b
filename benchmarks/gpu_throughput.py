"""Throughput on whatever device is there: verification notes/s and training images/s, batch 64 and 256,
fp32 and mixed precision.

Run:  .venv/bin/python benchmarks/gpu_throughput.py [--device auto|cpu|cuda|cuda:N|mps] [--quick]
                                                    [--backbone efficientnet_lite0] [--steps 20] [--workers N]

Targets (issue 18), on one H200-class GPU: >= 2,000 notes/s verification, >= 1,000 training images/s.
On a machine without a CUDA GPU the script says so and measures the CPU (mixed precision is CUDA-only:
those rows read "n/a").

1. Verification: the network part of verifying a note. Prepared (rectified) uint8 notes at the model's
   input size are normalised on the host, copied to the device and embedded, batch after batch, in
   inference mode; fp32 and autocast (bf16 where the GPU has it, else fp16) as the trainer's
   ``--precision auto`` would pick. Notes/s after warm-up batches, synchronised. Decoding and
   rectifying the photo are CPU work measured by ``benchmarks/verify_speed.py``.
2. Training: the trainer itself (``banknote_guard.model.trainer.train``) on in-memory notes (64 classes
   of 8 random notes, fed through its image cache, so no file is read), P x 4 batches with P = 16 or 64
   (batch 64 or 256), quadruplet loss, AdamW, the loader workers and pinned memory of
   ``TrainRuntime`` on a GPU; training images/s of the second epoch (the first warms up cuDNN).

The default network (EfficientNet-Lite0 at 128 x 256) is used with random weights: speed does not
depend on them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _benchutil import machine_header

TARGET_VERIFY = 2000.0
TARGET_TRAIN = 1000.0


def synchronize(device) -> None:  # noqa: ANN001 - a torch.device
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def verify_rate(config, device, precision: str, batch: int, batches: int) -> float:  # noqa: ANN001
    """Notes/s of host normalisation + copy + forward pass (inference mode) at ``batch``."""
    import torch

    from banknote_guard.model.devices import resolve_precision
    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.model.preprocess import prepared_size, to_tensor

    autocast = resolve_precision(precision, device)
    torch.manual_seed(0)
    net = EmbeddingNet(config).to(device).eval()
    h, w = prepared_size(config)
    notes = np.random.default_rng(0).integers(0, 256, size=(batch, h, w, 3), dtype=np.uint8)

    def one() -> None:
        with torch.inference_mode(), torch.autocast(device.type, dtype=autocast.dtype or torch.float16,
                                                     enabled=autocast.enabled):
            z = net(to_tensor(notes, config).to(device, non_blocking=True))
            z.float().cpu()

    for _ in range(2):
        one()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(batches):
        one()
    synchronize(device)
    return batch * batches / (time.perf_counter() - start)


def train_rate(config, device_name: str, precision: str, batch: int, steps: int, workers: int | None) -> float:  # noqa: ANN001
    """Training images/s of the trainer's second epoch (``steps`` optimiser steps of ``batch`` images)."""
    from banknote_guard.data.records import Dataset, ImageRecord
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.model.devices import TrainRuntime
    from banknote_guard.model.preprocess import prepared_size
    from banknote_guard.model.trainer import train

    h, w = prepared_size(config)
    rng = np.random.default_rng(1)
    pool = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for _ in range(16)]
    records, cache = [], {}
    for d in range(32):
        for label in ("genuine", "counterfeit"):
            for i in range(8):
                path = Path(f"/in-memory/BEN/{d}/{label}/{i}.png")
                records.append(ImageRecord(path=path, currency="BEN", denomination=str(d), label=label))  # type: ignore[arg-type]
                cache[(str(path), h, w)] = pool[(d * 8 + i) % len(pool)]
    tc = TrainConfig(model=config, pretrained=False, epochs=2, steps_per_epoch=steps, classes_per_batch=batch // 4,
                     images_per_class=4, val_fraction=0.0, patience=99)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(Dataset(Path("/in-memory"), records), tc, checkpoint_path=Path(tmp) / "bench.ckpt",
                       image_cache=cache, runtime=TrainRuntime(device=device_name, precision=precision,  # type: ignore[arg-type]
                                                               loader_workers=workers))
    return float(result.history[-1]["images_per_second"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto (a CUDA GPU when present), cpu, cuda, cuda:N, mps")
    parser.add_argument("--backbone", default=None, help="network (default: the product's default)")
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps per measured epoch (default 20; CPU 3)")
    parser.add_argument("--batches", type=int, default=None, help="verification batches measured (default 20; CPU 3)")
    parser.add_argument("--workers", type=int, default=None, help="loader worker processes (default: the trainer's)")
    parser.add_argument("--quick", action="store_true", help="batch 64 only, 2 steps / batches (a check that it runs)")
    args = parser.parse_args()

    import torch

    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.devices import describe_device, resolve_device, resolve_precision

    device = resolve_device(args.device)
    print(machine_header("GPU throughput: verification notes/s and training images/s"))
    print(f"device:  {describe_device(device)}")
    if device.type != "cuda":
        print(f"NOTE: no CUDA GPU is used here ({'none found' if not torch.cuda.is_available() else 'not asked for'}); "
              f"the figures below are for the {device.type.upper()}. The targets ({TARGET_VERIFY:,.0f} notes/s, "
              f"{TARGET_TRAIN:,.0f} training images/s) are for one H200-class GPU; mixed precision is CUDA-only.")
    config = ModelConfig() if args.backbone is None else ModelConfig(backbone=args.backbone)
    on_gpu = device.type == "cuda"
    steps = args.steps or (2 if args.quick else 20 if on_gpu else 3)
    batches = args.batches or (2 if args.quick else 20 if on_gpu else 3)
    sizes = (64,) if args.quick else (64, 256)
    precisions = ("fp32", "auto") if on_gpu else ("fp32",)
    print(f"network: {config.backbone}, input {config.image_height} x {config.image_width}, embedding {config.embedding_dim}; "
          f"{batches} verification batches, {steps} training steps per measurement")
    print()
    print(f"{'batch':>5}  {'precision':<9}  {'verify notes/s':>14}  {'train images/s':>14}")
    for batch in sizes:
        for precision in (*precisions, *(() if on_gpu else ("mixed",))):
            if precision == "mixed":
                print(f"{batch:>5}  {'bf16/fp16':<9}  {'n/a (CUDA only)':>14}  {'n/a (CUDA only)':>14}")
                continue
            name = resolve_precision(precision, device).name
            v = verify_rate(config, device, precision, batch, batches)
            t = train_rate(config, str(device), precision, batch, steps, args.workers)
            print(f"{batch:>5}  {name:<9}  {v:>14,.1f}  {t:>14,.1f}", flush=True)
    if on_gpu:
        print(f"\ntargets: verification >= {TARGET_VERIFY:,.0f} notes/s, training >= {TARGET_TRAIN:,.0f} images/s "
              f"(peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
