"""Does the learned embedding separate genuine from counterfeit notes better than ImageNet features?

Run:  .venv/bin/python benchmarks/embedding_quality.py [--threads 2] [--train DIR --test DIR]
                                                        [--holdout 1] [--epochs N] [--set FIELD=VALUE ...]

1. Data: a hard synthetic training set (2 currencies x 4 denominations, 80 genuine + 40 counterfeit
   each) and a separately generated test set (other seed, 40 + 20 each), unless --train/--test give
   folders. ``--holdout N`` keeps the last N denominations of every currency out of training (they
   are only enrolled, k-shot, at test time).
2. Trains the default configuration (TrainConfig defaults) on the training set.
3. Scores every test note by its distance to its denomination's genuine centroid divided by that
   denomination's spread, for two feature extractors with the same scoring:
   - the learned embedding;
   - ImageNet features: EfficientNet-Lite0 with its ImageNet weights, global-average-pooled 1280-d
     features, L2-normalised, at the same input size.
   Centroids come (a) from all training genuine notes (trained denominations) and (b) k-shot, from 5
   genuine test notes per denomination (every denomination, held-out ones included; those 5 are then
   left out of the scoring).
4. Prints ROC AUC (counterfeit = positive), catch rate at 1 % false alarms and nearest-centroid
   denomination accuracy of genuine notes, for each.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def embed_arrays(module: torch.nn.Module, images: np.ndarray, backbone: str, normalize: bool, batch: int = 64) -> np.ndarray:
    from banknote_guard.model.preprocess import normalize_tensor

    out = []
    module.eval()
    with torch.inference_mode():
        for s in range(0, len(images), batch):
            x = torch.from_numpy(images[s : s + batch]).permute(0, 3, 1, 2).float().div(255.0)
            z = module(normalize_tensor(x, backbone)).float()
            if normalize:
                z = torch.nn.functional.normalize(z, dim=1)
            out.append(z.numpy())
    return np.concatenate(out)


def main() -> None:
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.backbones import create_backbone
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.model.embedder import prepare_paths
    from banknote_guard.model.trainer import train
    from banknote_guard.model.validation import verification_metrics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train", type=Path)
    parser.add_argument("--test", type=Path)
    parser.add_argument("--holdout", type=int, default=1, help="denominations per currency kept out of training")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--detail-patches", type=int, help="texture patches per note (0: global view only)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a TrainConfig or ModelConfig field, e.g. --set backbone=efficientnet_lite0 "
                        "--set pretrained=true --set learning_rate=3e-4 (repeatable)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        if args.train is None or args.test is None:
            from banknote_guard.synth.generator import SynthOptions, generate_dataset

            args.train, args.test = Path(tmp) / "train", Path(tmp) / "test"
            common = dict(currencies=2, denominations_per_currency=4, difficulty="hard", contact_sheet=False)
            generate_dataset(args.train, SynthOptions(genuine_per_denomination=80, counterfeit_per_denomination=40, seed=0, **common))
            generate_dataset(args.test, SynthOptions(genuine_per_denomination=40, counterfeit_per_denomination=20, seed=1, **common))
        data, test = discover_dataset(args.train), discover_dataset(args.test)
        held: set[str] = set()
        if args.holdout:
            by_currency: dict[str, list[str]] = {}
            for d in data.denominations:
                by_currency.setdefault(d.split("/")[0], []).append(d)
            for denoms in by_currency.values():
                denoms.sort(key=lambda d: float(d.split("/")[1]) if d.split("/")[1].replace(".", "").isdigit() else 0)
                held.update(denoms[-args.holdout :])
        data.records = [r for r in data.records if r.denom_id not in held]
        config = TrainConfig(num_threads=args.threads)
        if args.epochs:
            config.epochs = args.epochs
        if args.detail_patches is not None:
            config.model.detail_patches = args.detail_patches
        for item in args.set:
            key, _, value = item.partition("=")
            target = config.model if hasattr(config.model, key) else config
            if not hasattr(target, key):
                parser.error(f"--set {item}: no TrainConfig or ModelConfig field {key!r}")
            current = getattr(target, key)
            if isinstance(current, bool):
                parsed: object = value.lower() in ("1", "true", "yes")
            elif current is None:
                parsed = int(value)
            else:
                parsed = type(current)(value)
            setattr(target, key, parsed)
        m = config.model
        from banknote_guard.model.preprocess import _resize, prepared_size

        key_hw = prepared_size(m)
        cache: dict = {}
        t = time.perf_counter()
        result = train(data, config, checkpoint_path=Path(tmp) / "ckpt.pt", image_cache=cache)
        print(f"trained {m.backbone} {m.image_height}x{m.image_width} "
              f"(texture patches: {m.detail_patches} from {key_hw[0]}x{key_hw[1]}) on {len(data)} images "
              f"({len(data.denominations)} denominations; held out: {', '.join(sorted(held)) or 'none'}) "
              f"in {time.perf_counter() - t:.0f} s, {len(result.history)} epochs (best {result.best_epoch})")

        refs = [r for r in result.train_records + result.val_records if r.is_genuine]
        all_paths = [r.path for r in refs] + [r.path for r in test.records]
        todo = [p for p in all_paths if (str(p), *key_hw) not in cache]
        images, _ = prepare_paths(todo, m)
        for p, im in zip(todo, images):
            cache[(str(p), *key_hw)] = im
        ok = [r for r in test.records if cache.get((str(r.path), *key_hw)) is not None]
        ref_img = np.stack([cache[(str(r.path), *key_hw)] for r in refs])
        test_img = np.stack([cache[(str(r.path), *key_hw)] for r in ok])

        def global_size(x: np.ndarray) -> np.ndarray:  # ImageNet features at the network's global input size
            return np.stack([_resize(im, m.image_width, m.image_height) for im in x])

        imagenet, _ = create_backbone("efficientnet_lite0", weights="imagenet")
        extractors = {
            "learned embedding": lambda x: embed_arrays(result.net, x, m.backbone, normalize=False),
            "ImageNet features (efficientnet_lite0)": lambda x: embed_arrays(
                imagenet, global_size(x), "efficientnet_lite0", normalize=True
            ),
        }
        rng = random.Random(0)
        shots: list[int] = []
        for d in test.denominations:
            genuine = [i for i, r in enumerate(ok) if r.denom_id == d and r.is_genuine]
            shots += rng.sample(genuine, min(args.shots, len(genuine)))
        shot_set = set(shots)
        rest = [i for i in range(len(ok)) if i not in shot_set]
        trained = set(data.denominations)  # after the hold-out
        seen = [i for i in range(len(ok)) if ok[i].denom_id in trained]
        # never trained on: held out of the training set, or only in the test set
        unseen = [i for i in rest if ok[i].denom_id not in trained]
        print(f"test set: {len(ok)} notes ({sum(r.is_genuine for r in ok)} genuine), {len(test.denominations)} denominations")
        header = f"{'features':<40} {'AUC':>7} {'catch@1%':>9} {'denom acc':>10}"
        for name, fn in extractors.items():
            t = time.perf_counter()
            ref_e, test_e = fn(ref_img), fn(test_img)
            print(f"\n{name} ({ref_e.shape[1]}-d, {time.perf_counter() - t:.0f} s to embed)")
            print(header)

            def row(label: str, ref: np.ndarray, ref_d: list[str], idx: list[int]) -> None:
                res = verification_metrics(ref, ref_d, test_e[idx], [ok[i].denom_id for i in idx],
                                           [ok[i].is_genuine for i in idx], distance=m.distance)
                print(f"{label:<40} {res['auc']:7.4f} {res['catch_rate']:9.3f} {res['denom_accuracy']:10.3f}")

            row("trained denoms, train centroids", ref_e, [r.denom_id for r in refs], seen)
            row(f"all denoms, {args.shots}-shot centroids", test_e[shots], [ok[i].denom_id for i in shots], rest)
            if unseen:
                row(f"untrained denoms, {args.shots}-shot centroids", test_e[shots], [ok[i].denom_id for i in shots], unseen)


if __name__ == "__main__":
    main()
