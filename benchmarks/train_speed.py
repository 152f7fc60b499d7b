"""Training speed on the CPU: images/second per backbone, and time to train the default model.

Run:  .venv/bin/python benchmarks/train_speed.py [--threads 2] [--backbones efficientnet_lite0 small_cnn resnet18]
                                                  [--dataset DIR] [--skip-full]

1. Throughput: for each backbone, the default training step (augmentation, forward, the default loss,
   backward, AdamW step) on batches of the default size (P x K) at the default input size, after two
   warm-up steps; prints training images/second.
2. Full run: generates a ~1,000-image hard synthetic dataset (8 denominations x 80 genuine + 40
   counterfeit) unless --dataset is given, trains the default configuration on it and prints the
   time spent reading/rectifying, training, the epochs run and the final validation figures.

The machine should be otherwise idle; the figures scale roughly with the number of cores given.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def throughput(backbone: str, steps: int, threads: int) -> tuple[float, float]:
    """(training images/second, CPU seconds per image) for one backbone at the default settings."""
    from banknote_guard.model.augment import augment_batch, augment_two_views
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.model.losses import create_loss
    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.model.preprocess import normalize_tensor, prepared_size

    torch.set_num_threads(threads)
    config = TrainConfig()
    config.model.backbone = backbone
    m = config.model
    net = EmbeddingNet(m).train()
    loss_fn = create_loss(config)
    opt = torch.optim.AdamW(net.parameters(), lr=config.learning_rate)
    p, k = config.classes_per_batch, config.images_per_class
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (p * k, *prepared_size(m), 3), dtype=np.uint8)
    labels = torch.arange(p).repeat_interleave(k)
    gen = torch.Generator().manual_seed(0)

    def step() -> None:
        if net.has_detail:  # as the trainer: texture-safe full view + separately augmented global view
            full, small = augment_two_views(images, gen, (m.image_height, m.image_width))
            z = net(normalize_tensor(full, m.backbone), normalize_tensor(small, m.backbone))
        else:
            z = net(normalize_tensor(augment_batch(images, gen), m.backbone))
        loss = loss_fn(z, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = steps * p * k
    return n / wall, cpu / n


def full_run(dataset: Path | None, threads: int, epochs: int | None) -> None:
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.model.trainer import train
    from banknote_guard.progress import Progress

    with tempfile.TemporaryDirectory() as tmp:
        if dataset is None:
            from banknote_guard.synth.generator import SynthOptions, generate_dataset

            dataset = Path(tmp) / "data"
            t = time.perf_counter()
            generate_dataset(dataset, SynthOptions(currencies=2, denominations_per_currency=4,
                                                   genuine_per_denomination=80, counterfeit_per_denomination=40,
                                                   difficulty="hard", seed=0, contact_sheet=False))
            print(f"generated dataset in {time.perf_counter() - t:.1f} s")
        data = discover_dataset(dataset)
        config = TrainConfig(num_threads=threads)
        if epochs:
            config.epochs = epochs
        marks: dict[str, float] = {}

        def progress(p: Progress) -> None:
            marks.setdefault(p.stage, time.perf_counter())

        t0, c0 = time.perf_counter(), time.process_time()
        result = train(data, config, checkpoint_path=Path(tmp) / "ckpt.pt", progress=progress)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        prepare = marks.get("train", t0) - marks.get("prepare", t0)
        last = result.history[result.best_epoch - 1]
        print(f"dataset: {len(data)} images ({len(result.train_records)} train / {len(result.val_records)} val)")
        print(f"config: {config.model.backbone} {config.model.image_height}x{config.model.image_width}, "
              f"texture patches {config.model.detail_patches} x {config.model.detail_patch_size} px "
              f"from {config.model.detail_height}x{config.model.detail_width}, "
              f"dim {config.model.embedding_dim}, {config.loss}, P x K = {config.classes_per_batch} x {config.images_per_class}")
        print(f"read + rectify: {prepare:.1f} s; training: {total - prepare:.1f} s; total {total:.1f} s "
              f"({total / 60:.1f} min; process CPU {cpu:.0f} s)")
        print(f"epochs run: {len(result.history)} (best {result.best_epoch}, stopped early: {result.stopped_early}); "
              f"training images/s: {result.images_per_second:.1f}")
        print(f"best epoch validation: AUC {last['val_auc']:.4f}, catch@1%FA {last['val_catch_rate']:.3f}, "
              f"denomination accuracy {last['val_denom_accuracy']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backbones", nargs="+", default=["efficientnet_lite0", "small_cnn", "resnet18"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, "
          f"{args.threads} thread(s)")
    for name in args.backbones:
        ips, cpu = throughput(name, args.steps, args.threads)
        print(f"{name:>20}: {ips:7.1f} training images/s ({cpu * 1000:.0f} ms CPU per image)")
    if not args.skip_full:
        full_run(args.dataset, args.threads, args.epochs)


if __name__ == "__main__":
    main()
