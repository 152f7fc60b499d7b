"""Input preparation and batch inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from banknote_guard.data.records import Dataset
from banknote_guard.model.config import ModelConfig
from banknote_guard.model.embedder import Embedder
from banknote_guard.model.network import EmbeddingNet
from banknote_guard.model.preprocess import load_and_prepare, prepare_image, to_tensor

CONFIG = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64, detail_patches=0)


def test_prepare_image_finds_a_note_on_a_scanner_lid() -> None:
    lid = np.full((300, 400, 3), 235, np.uint8)
    note = np.zeros((120, 240, 3), np.uint8)
    note[:] = (40, 120, 60)
    note[20:100:8] = (200, 60, 60)
    lid[90:210, 80:320] = note
    out, found = prepare_image(lid, CONFIG)
    assert out.shape == (32, 64, 3) and out.dtype == np.uint8
    assert found
    # The lid is gone: the image is the note's colours, not the light background.
    assert out.mean() < 150


def test_prepare_image_accepts_grey_and_portrait() -> None:
    grey = (np.random.default_rng(0).random((90, 50)) * 255).astype(np.uint8)
    out, _ = prepare_image(grey, CONFIG)
    assert out.shape == (32, 64, 3)


def test_to_tensor_normalises_with_the_backbone_statistics() -> None:
    images = [np.full((32, 64, 3), 255, np.uint8), np.zeros((16, 20, 3), np.uint8)]
    x = to_tensor(images, CONFIG)
    assert x.shape == (2, 3, 32, 64) and x.dtype == torch.float32
    assert torch.allclose(x[0], torch.ones_like(x[0]))  # (1 - 0.5) / 0.5 for small_cnn
    assert torch.allclose(x[1], -torch.ones_like(x[1]))
    x_in = to_tensor(images[:1], ModelConfig(backbone="resnet18", image_height=32, image_width=64))
    assert x_in[0, 0, 0, 0] == pytest.approx((1 - 0.485) / 0.229, rel=1e-5)


def test_embed_is_batch_size_independent_and_resizes() -> None:
    torch.manual_seed(0)
    net = EmbeddingNet(CONFIG)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (32, 64, 3), dtype=np.uint8) for _ in range(5)]
    a = Embedder(net, CONFIG, batch_size=2, device="cpu").embed(images)
    b = Embedder(net, CONFIG, batch_size=64, device="cpu").embed(np.stack(images))
    assert a.shape == (5, 8) and a.dtype == np.float32
    assert np.allclose(a, b, atol=1e-5)
    big = [np.kron(images[0], np.ones((2, 2, 1), np.uint8))]
    assert Embedder(net, CONFIG, device="cpu").embed(big).shape == (1, 8)
    assert Embedder(net, CONFIG, device="cpu").embed([]).shape == (0, 8)


def test_embed_paths_reports_bad_files_and_goes_on(tiny_dataset: Dataset, tmp_path: Path) -> None:
    good = [r.path for r in tiny_dataset.records[:3]]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    missing = tmp_path / "missing.jpg"
    emb, failures = Embedder(EmbeddingNet(CONFIG), CONFIG, device="cpu").embed_paths([good[0], broken, good[1], missing, good[2]])
    assert emb.shape == (3, 8)
    assert [p for p, _ in failures] == [broken, missing]
    assert all(isinstance(m, str) and m for _, m in failures)
    single, _ = load_and_prepare(good[1], CONFIG)
    direct = Embedder(EmbeddingNet(CONFIG), CONFIG, device="cpu")
    assert single.shape == (32, 64, 3)
    assert direct.embed([single]).shape == (1, 8)


def test_embed_paths_reads_real_files(tmp_path: Path) -> None:
    path = tmp_path / "note.jpg"
    Image.fromarray(np.full((60, 120, 3), (30, 90, 160), np.uint8)).save(path)
    emb, failures = Embedder(EmbeddingNet(CONFIG), CONFIG, device="cpu").embed_paths([path])
    assert emb.shape == (1, 8) and not failures and np.isfinite(emb).all()
