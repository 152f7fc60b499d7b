"""Fixtures of the model tests: small generated note images on disk, in the dataset layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from banknote_guard.data.records import Dataset, ImageRecord
from banknote_guard.model.config import ModelConfig, TrainConfig

NOTE_H, NOTE_W = 40, 80
#: (background RGB, stripe period in px, stripe direction) per denomination.
DESIGNS = {
    "5": ((200, 120, 90), 6, "h"),
    "10": ((90, 160, 200), 8, "v"),
    "20": ((120, 190, 110), 5, "d"),
    "50": ((190, 170, 80), 7, "h"),
}


def make_note(denom: str, counterfeit: bool, rng: np.random.Generator) -> np.ndarray:
    """A note: coloured background, coarse stripes of its denomination, fine 1-px guilloche lines.

    A counterfeit loses the fine lines (blurred away), gets a slight colour shift and a dot pattern.
    """
    base, period, direction = DESIGNS[denom]
    yy, xx = np.mgrid[0:NOTE_H, 0:NOTE_W].astype(np.float32)
    coord = {"h": yy, "v": xx, "d": xx + yy}[direction]
    stripes = (np.sin(2 * np.pi * coord / period) > 0).astype(np.float32)
    fine = ((xx.astype(int) + yy.astype(int)) % 2).astype(np.float32)
    img = np.array(base, np.float32)[None, None, :] * (0.75 + 0.25 * stripes[..., None])
    img = img * (0.9 + 0.1 * fine[..., None])
    if counterfeit:
        k = np.ones(3, np.float32) / 3
        img = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 1, img)
        img = img * np.array([1.06, 0.97, 0.94], np.float32)
        img[::3, ::3] *= 0.85
    gain = rng.uniform(0.9, 1.1)
    img = img * gain + rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_dataset(root: Path, genuine: int = 10, counterfeit: int = 6, seed: int = 0,
                  genuine_only: tuple[str, ...] = ("50",)) -> Dataset:
    """Write DATASET/TST/<denom>/{genuine,counterfeit}/*.png and return its Dataset."""
    rng = np.random.default_rng(seed)
    records: list[ImageRecord] = []
    for denom in DESIGNS:
        for label, n in (("genuine", genuine), ("counterfeit", 0 if denom in genuine_only else counterfeit)):
            folder = root / "TST" / denom / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                path = folder / f"{label}_{i:03d}.png"
                Image.fromarray(make_note(denom, label == "counterfeit", rng)).save(path)
                records.append(ImageRecord(path=path, currency="TST", denomination=denom, label=label))  # type: ignore[arg-type]
    records.sort(key=lambda r: str(r.path))
    return Dataset(root=root, records=records)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return write_dataset(tmp_path_factory.mktemp("notes"))


def tiny_train_config(**changes: object) -> TrainConfig:
    """A configuration that trains in a few seconds on the tiny dataset."""
    config = TrainConfig(
        model=ModelConfig(
            backbone="small_cnn", embedding_dim=16, image_height=32, image_width=64,
            detail_patches=4, detail_height=40, detail_width=80, detail_patch_size=16, detail_dim=8,
        ),
        pretrained=False,
        epochs=4,
        steps_per_epoch=0,
        classes_per_batch=4,
        images_per_class=4,
        learning_rate=3e-3,
        val_fraction=0.3,
        patience=10,
        num_threads=1,
        seed=0,
    )
    for k, v in changes.items():
        setattr(config, k, v)
    return config


@pytest.fixture(scope="session")
def make_config():  # noqa: ANN201 - returns the factory
    """The factory :func:`tiny_train_config` (test modules cannot import conftest)."""
    return tiny_train_config
