"""The high-resolution texture branch of the embedding network."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from banknote_guard.data.records import Dataset
from banknote_guard.errors import ParameterError
from banknote_guard.model.augment import augment_two_views
from banknote_guard.model.config import ModelConfig, TrainConfig
from banknote_guard.model.embedder import Embedder
from banknote_guard.model.network import EmbeddingNet, cut_patches, patch_grid
from banknote_guard.model.preprocess import load_and_prepare, prepare_image, prepared_size, to_tensor
from banknote_guard.model.trainer import train

SMALL = ModelConfig(
    backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64,
    detail_patches=6, detail_height=64, detail_width=128, detail_patch_size=16, detail_dim=8,
)


def test_branch_prepares_notes_at_detail_resolution() -> None:
    config = ModelConfig(detail_patches=8)
    assert ModelConfig().detail_patches == 0  # off by default: no measured gain yet (see ModelConfig)
    assert prepared_size(config) == (config.detail_height, config.detail_width)
    assert prepared_size(ModelConfig()) == (config.image_height, config.image_width)
    rgb = (np.random.default_rng(0).random((300, 600, 3)) * 255).astype(np.uint8)
    note, _ = prepare_image(rgb, SMALL)
    assert note.shape == (64, 128, 3) and note.dtype == np.uint8
    assert to_tensor([note], SMALL).shape == (1, 3, 64, 128)


def test_detail_branch_output_shapes() -> None:
    torch.manual_seed(0)
    net = EmbeddingNet(SMALL).eval()
    assert net.has_detail and net.detail is not None
    x = torch.randn(3, 3, 64, 128)
    with torch.no_grad():
        f = net.features(x)
        z = net(x)
        d = net.detail_features(x)
    assert d.shape == (3, 4 * SMALL.detail_dim)
    assert f.shape == (3, net.feature_dim + 4 * SMALL.detail_dim)
    assert z.shape == (3, 8) and torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)
    # A batch at the global size is upsampled to the detail size instead of failing.
    with torch.no_grad():
        assert net(torch.randn(2, 3, 32, 64)).shape == (2, 8)


def test_patch_grid_covers_the_note_and_patches_are_exact_crops() -> None:
    grid = patch_grid(256, 512, 48, 8)
    assert grid.shape == (8, 2)
    assert len({int(y) for y in grid[:, 0]}) == 2 and len({int(x) for x in grid[:, 1]}) == 4  # 2 x 4
    assert int(grid[:, 0].min()) >= 0 and int(grid[:, 0].max()) + 48 <= 256
    assert int(grid[:, 1].max()) + 48 <= 512 and int(grid[:, 1].max()) - int(grid[:, 1].min()) > 300
    assert patch_grid(64, 128, 16, 5).shape == (5, 2)
    x = torch.arange(2 * 3 * 20 * 30, dtype=torch.float32).view(2, 3, 20, 30)
    corners = torch.tensor([[[1, 2], [5, 7]], [[0, 0], [10, 20]]])
    p = cut_patches(x, corners, 8).view(2, 2, 3, 8, 8)
    assert torch.equal(p[0, 1], x[0, :, 5:13, 7:15])
    assert torch.equal(p[1, 1], x[1, :, 10:18, 20:28])


def test_patches_are_deterministic_at_inference_and_random_in_training() -> None:
    torch.manual_seed(0)
    net = EmbeddingNet(SMALL).eval()
    x = torch.randn(2, 3, 64, 128)
    with torch.no_grad():
        torch.manual_seed(1)
        a = net(x)
        torch.manual_seed(2)
        b = net(x)
    assert torch.equal(a, b)
    # Embedding one note alone or inside a batch gives the same vector (grid independent of the batch).
    rng = np.random.default_rng(0)
    notes = [rng.integers(0, 255, (64, 128, 3), dtype=np.uint8) for _ in range(3)]
    emb = Embedder(net, SMALL, batch_size=3, device="cpu")
    assert np.allclose(emb.embed(notes)[1], emb.embed(notes[1:2])[0], atol=1e-5)
    net.train()
    with torch.no_grad():
        torch.manual_seed(1)
        c = net.detail_features(x)
        torch.manual_seed(2)
        d = net.detail_features(x)
        torch.manual_seed(1)
        e = net.detail_features(x)
    assert not torch.allclose(c, d) and torch.allclose(c, e)


def test_training_augmentation_keeps_texture_unblurred() -> None:
    # A 1-px checkerboard: any resampling blur would flatten it towards grey.
    yy, xx = np.mgrid[0:64, 0:128]
    board = np.where(((yy + xx) % 2 == 0)[..., None], 220, 30).astype(np.uint8).repeat(3, axis=2)
    images = np.stack([board] * 16)
    full, small = augment_two_views(images, torch.Generator().manual_seed(0), (32, 64))
    assert full.shape == (16, 3, 64, 128) and small.shape == (16, 3, 32, 64)
    inner = full[:, :, 8:-8, 8:-8]
    neighbour_diff = (inner[..., 1:] - inner[..., :-1]).abs().mean(dim=(1, 2, 3))
    assert float(neighbour_diff.min()) > 0.4  # every image keeps its full pixel-to-pixel contrast


def test_old_config_dict_without_detail_keys_loads_with_the_branch_off() -> None:
    old = {"backbone": "small_cnn", "embedding_dim": 12, "normalize": True, "distance": "sqeuclidean",
           "image_height": 32, "image_width": 64, "some_future_key": 1}
    config = ModelConfig.from_dict(old)
    assert config.detail_patches == 0 and prepared_size(config) == (32, 64)
    net = EmbeddingNet(config)
    assert not net.has_detail
    assert not any(k.startswith("detail") for k in net.state_dict())
    # Round trip of a config with the branch keeps it.
    assert ModelConfig.from_dict(SMALL.to_dict()) == SMALL
    assert ModelConfig.from_dict(ModelConfig().to_dict()).detail_patches == ModelConfig().detail_patches


def test_bad_detail_settings_are_parameter_errors() -> None:
    with pytest.raises(ParameterError, match="detail_patch_size"):
        EmbeddingNet(ModelConfig(detail_patches=8, detail_patch_size=300))
    with pytest.raises(ParameterError, match="detail_width"):
        EmbeddingNet(ModelConfig(detail_patches=8, detail_width=100))
    with pytest.raises(ParameterError, match="detail_patches"):
        EmbeddingNet(ModelConfig(detail_patches=-1))
    with pytest.raises(ParameterError, match="detail_dim"):
        EmbeddingNet(ModelConfig(detail_patches=8, detail_dim=0))


def test_bundle_with_the_branch_round_trips(
    make_config: Callable[..., TrainConfig], tiny_dataset: Dataset, tmp_path: Path
) -> None:
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.workflows.training import build_bundle

    config = make_config(epochs=1)
    assert config.model.detail_patches > 0
    result = train(tiny_dataset, config, checkpoint_path=tmp_path / "ck.pt")
    assert result.train_images is not None and result.train_images.shape[1:3] == prepared_size(config.model)
    bundle, _ = build_bundle(
        result.net, result.model_config, config, result.train_records, result.val_records,
        train_images=result.train_images, val_images=result.val_images,
    )
    path = bundle.save(tmp_path / "model.bgm")
    loaded = ModelBundle.load(path)
    assert loaded.config == config.model and loaded.config.detail_patches == config.model.detail_patches
    notes = [load_and_prepare(r.path, loaded.config)[0] for r in result.val_records[:4]]
    before = Embedder(result.net, config.model, device="cpu").embed(notes)
    after = loaded.embedder.embed(notes)
    assert np.allclose(before, after, atol=1e-5)
