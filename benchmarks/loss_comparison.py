"""Loss comparison at an equal budget: quadruplet vs triplet vs contrastive, several seeds each.

Run:  .venv/bin/python benchmarks/loss_comparison.py [--quick] [--seeds 0 1 2] [--epochs 10] [--threads 2]

Protocol (identical for every loss; only ``TrainConfig.loss`` changes):

1. One synthetic dataset at the generator's "hard" setting (generated once, cached in ``--workdir``).
2. Per currency the highest denomination is held out of training entirely; of the other denominations
   30% of every (denomination, genuine / counterfeit method) group is the test split
   (:func:`banknote_guard.workflows.demo.split_dataset`). The rest is split into training and validation
   by the trainer's own stratified split, with the run's seed.
3. Every image is read and rectified once; all runs share those prepared notes.
4. Per (loss, seed): train with the same TrainConfig (backbone, input size, batches, epochs,
   learning rate, margins as the config's defaults -- no loss gets extra tuning), build the gallery,
   SVMs and thresholds on the training/validation notes (:func:`banknote_guard.workflows.training.build_bundle`),
   enroll each held-out denomination from 5 genuine images (``api.enroll``, no retraining), and score
   the test split with the model's verdict rule.
5. Figures on the test split: counterfeit-vs-genuine ROC AUC of the counterfeit score (all test
   notes, trained and enrolled denominations separately), catch rate at 1% false alarms (all test
   notes), and the 5-shot denomination accuracy (genuine test notes of the enrolled denominations,
   nearest centroid among all denominations). Mean +- sample standard deviation over seeds.

The seeds change the network's initialisation, the batches, the augmentation and the train/validation
split; a seed gives every loss the same split and the same batches.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from _benchutil import machine_header, mean_std, peak_rss_mib

LOSSES = ("quadruplet", "triplet", "contrastive")
FIGURES: tuple[tuple[str, str, bool], ...] = (
    ("auc", "AUC all", False),
    ("auc_trained", "AUC trained", False),
    ("auc_enrolled", "AUC enrolled", False),
    ("catch_1pct", "catch@1%FAR", True),
    ("kshot_acc", "5-shot denom acc", True),
    ("trained_acc", "trained denom acc", True),
)


def plan(args: argparse.Namespace) -> tuple[Any, Any]:
    """Synthetic-data options and the one training configuration shared by all losses."""
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.synth.generator import SynthOptions

    if args.quick:
        synth = SynthOptions(currencies=2, denominations_per_currency=3, genuine_per_denomination=16,
                             counterfeit_per_denomination=8, difficulty="hard", note_width=320, seed=args.data_seed,
                             jobs=2, contact_sheet=False)
        model = ModelConfig(backbone="small_cnn", embedding_dim=32, image_height=48, image_width=96)
        train = TrainConfig(model=model, pretrained=False, steps_per_epoch=0, epochs=args.epochs or 2, classes_per_batch=4, images_per_class=4,
                            patience=100, num_threads=args.threads)
    else:
        synth = SynthOptions(currencies=3, denominations_per_currency=4, genuine_per_denomination=40,
                             counterfeit_per_denomination=21, difficulty="hard", note_width=480, seed=args.data_seed,
                             jobs=2, contact_sheet=False)
        # The small CNN from scratch, one pass per epoch: the settings the recorded figures were measured with.
        model = ModelConfig(backbone="small_cnn", embedding_dim=64, image_height=64, image_width=128)
        train = TrainConfig(model=model, pretrained=False, steps_per_epoch=0, epochs=args.epochs or 12, patience=100,
                            num_threads=args.threads)
    return synth, train


def prepared_hw(model: Any) -> tuple[int, int]:
    """(height, width) of a prepared note: the key the trainer's image cache uses."""
    from banknote_guard.model import preprocess

    if hasattr(preprocess, "prepared_size"):
        return preprocess.prepared_size(model)
    return model.image_height, model.image_width


def _safe(x: float | None) -> float:
    return math.nan if x is None else float(x)


def run_one(
    loss: str, seed: int, base: Any, dataset: Any, parts: dict[str, list[Any]], cache: dict[Any, np.ndarray],
    enroll_view: Path, held_out: list[str], workdir: Path,
) -> dict[str, Any]:
    """Train, enroll and test one (loss, seed); returns its figures."""
    from banknote_guard import api
    from banknote_guard.model.split import split_records
    from banknote_guard.model.trainer import train
    from banknote_guard.evaluation import metrics as m
    from banknote_guard.workflows.training import build_bundle
    from banknote_guard.verify.verifier import score_embeddings

    cfg = replace(base, loss=loss, seed=seed)
    h, w = prepared_hw(cfg.model)
    tr, va = split_records(list(parts["train"]), cfg.val_fraction, seed)
    t0 = time.monotonic()
    result = train(dataset, cfg, checkpoint_path=workdir / f"ckpt_{loss}_{seed}.pt", train_records=tr,
                   val_records=va, image_cache=cache)
    train_s = time.monotonic() - t0

    def images(records: list[Any]) -> list[np.ndarray]:
        return [cache[(str(r.path), h, w)] for r in records]

    bundle, _ = build_bundle(result.net, result.model_config, cfg, result.train_records, result.val_records,
                             train_images=images(result.train_records), val_images=images(result.val_records))
    if held_out:
        api.enroll(bundle, enroll_view, denominations=held_out)
    test = [r for r in parts["test"] if (str(r.path), h, w) in cache]
    emb = bundle.embedder.embed(images(test))
    results = score_embeddings(bundle, emb, [str(r.path) for r in test])
    labels = np.array([0 if r.is_genuine else 1 for r in test])
    scores = np.array([res.counterfeit_score for res in results], dtype=np.float64)
    held = np.array([r.denom_id in held_out for r in test])
    correct = np.array([res.denomination == r.denom_id for res, r in zip(results, test)])
    gen = labels == 0
    out = {
        "loss": loss, "seed": seed,
        "auc": m.roc_auc(labels, scores),
        "auc_trained": m.roc_auc(labels[~held], scores[~held]),
        "auc_enrolled": m.roc_auc(labels[held], scores[held]) if held.any() else math.nan,
        "catch_1pct": m.catch_rate_at_far(labels, scores, 0.01)[0],
        "kshot_acc": float(correct[gen & held].mean()) if (gen & held).any() else math.nan,
        "trained_acc": float(correct[gen & ~held].mean()) if (gen & ~held).any() else math.nan,
        "best_epoch": result.best_epoch, "epochs": len(result.history),
        "train_seconds": train_s, "images_per_second": result.images_per_second,
        "n_test": len(test), "n_test_counterfeit": int(labels.sum()),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny data, 2 epochs, seeds 0 1 (checks the script)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="training seeds (default 0 1 2; 0 1 with --quick)")
    ap.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    ap.add_argument("--epochs", type=int, default=None, help="epochs per run (default 12; 2 with --quick)")
    ap.add_argument("--data-seed", type=int, default=21, help="seed of the synthetic dataset")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "banknote_guard_bench")
    ap.add_argument("--json", type=Path, default=None, help="also write every run's figures as JSON")
    args = ap.parse_args(argv)
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2])

    import torch

    torch.set_num_threads(args.threads)
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.embedder import prepare_paths
    from banknote_guard.synth.generator import generate_dataset
    from banknote_guard.workflows.demo import choose_held_out, split_dataset, write_view

    started = time.monotonic()
    synth, base = plan(args)
    tag = "quick" if args.quick else "full"
    work = args.workdir / f"losscmp_{tag}_{args.data_seed}"
    data_root = work / "data"
    if not (work / ".complete").is_file():
        print(f"[setup] generating the hard synthetic dataset into {data_root} ...", file=sys.stderr)
        work.mkdir(parents=True, exist_ok=True)
        generate_dataset(data_root, synth)
        (work / ".complete").write_text("done\n", encoding="utf-8")
    dataset = discover_dataset(data_root)
    held_out = choose_held_out(dataset.denominations, 1)
    parts = split_dataset(dataset, held_out=held_out, test_fraction=0.3, enroll_shots=5)
    enroll_view = write_view(dataset, parts["enroll"], work / "views" / "enroll")

    h, w = prepared_hw(base.model)
    t0 = time.monotonic()
    records = parts["train"] + parts["test"]
    prepared, failures = prepare_paths([r.path for r in records], base.model)
    cache = {(str(r.path), h, w): im for r, im in zip(records, prepared) if im is not None}
    prepare_s = time.monotonic() - t0

    print(machine_header("Loss comparison (equal budget)", args.threads))
    n_tc = sum(not r.is_genuine for r in parts["test"])
    print(f"data:    hard synthetic set, {len(dataset)} images, {len(dataset.denominations)} denominations "
          f"({synth.currencies} currencies); held out of training and enrolled from 5 images: {', '.join(held_out)}")
    print(f"         train+val {len(parts['train'])}, test {len(parts['test'])} ({n_tc} counterfeit); "
          f"{len(failures)} unreadable; read+rectify once: {prepare_s:.0f} s")
    detail = getattr(base.model, "detail_patches", 0)
    branch = f", texture branch {detail} x {base.model.detail_patch_size} px patches" if detail else ""
    print(f"config:  {base.model.backbone}, input {base.model.image_height}x{base.model.image_width}{branch}, {base.model.embedding_dim}-d, {base.epochs} epochs, "
          f"P x K = {base.classes_per_batch} x {base.images_per_class}, lr {base.learning_rate}, margin {base.margin}, "
          f"margin2 {base.margin2} (quadruplet only), mining {base.mining}, augment {base.augment}; "
          f"best epoch by validation score; seeds {' '.join(map(str, seeds))}")
    print()

    runs: list[dict[str, Any]] = []
    for seed in seeds:
        for loss in args.losses:
            r = run_one(loss, seed, base, dataset, parts, cache, enroll_view, held_out, work)
            runs.append(r)
            print(f"  run {loss:<11} seed {seed}: AUC {r['auc']:.4f}  catch@1% {100 * r['catch_1pct']:5.1f}%  "
                  f"5-shot acc {100 * _safe(r['kshot_acc']):5.1f}%  best epoch {r['best_epoch']}/{r['epochs']}  "
                  f"{r['train_seconds']:.0f} s ({r['images_per_second']:.0f} img/s)", flush=True)

    print()
    print(f"mean +- std over {len(seeds)} seeds (test split, never seen in training):")
    header = f"  {'loss':<12}" + "".join(f"{label:>20}" for _, label, _ in FIGURES) + f"{'train s':>10}"
    print(header)
    summary: dict[str, dict[str, tuple[float, float]]] = {}
    for loss in args.losses:
        mine = [r for r in runs if r["loss"] == loss]
        row = f"  {loss:<12}"
        summary[loss] = {}
        for key, _, pct in FIGURES:
            mu, sd = mean_std([_safe(r[key]) for r in mine])
            summary[loss][key] = (mu, sd)
            k = 100.0 if pct else 1.0
            cell = f"{k * mu:.1f} +- {k * sd:.1f}" if pct else f"{mu:.4f} +- {sd:.4f}"
            row += f"{cell:>20}"
        row += f"{np.mean([r['train_seconds'] for r in mine]):>10.0f}"
        print(row)
    best = {key: max(summary, key=lambda lo: -math.inf if math.isnan(summary[lo][key][0]) else summary[lo][key][0])
            for key, _, _ in FIGURES}
    print()
    print("highest mean: " + ", ".join(f"{label} {best[key]}" for key, label, _ in FIGURES))
    print(f"total {(time.monotonic() - started) / 60:.1f} min; peak RSS {peak_rss_mib():.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": summary}, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
