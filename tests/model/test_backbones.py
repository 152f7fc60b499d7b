"""Backbone factory, weights loading (never downloading) and the embedding network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from banknote_guard.errors import ParameterError, WeightsUnavailableError
from banknote_guard.model.backbones import (
    BACKBONES,
    available_backbones,
    create_backbone,
    efficientnet_lite0_package_file,
    imagenet_weights_file,
)
from banknote_guard.model.config import ModelConfig
from banknote_guard.model.network import EmbeddingNet


@pytest.fixture()
def empty_hub(tmp_path: Path) -> Path:
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(previous)


def test_registry_lists_every_family() -> None:
    names = available_backbones()
    assert names == list(BACKBONES)
    for expected in ("small_cnn", "resnet18", "resnet50", "vgg16", "inception_v3", "mobilenet_v3_small",
                     "mobilenet_v3_large", "efficientnet_b0", "efficientnet_lite0"):
        assert expected in names


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(ParameterError, match="small_cnn.*resnet18.*efficientnet_lite0"):
        create_backbone("alexnet")


@pytest.mark.parametrize("name,size,features", [
    ("small_cnn", (48, 96), 256),
    ("resnet18", (64, 64), 512),
    ("mobilenet_v3_small", (64, 64), 576),
    ("efficientnet_lite0", (48, 96), 1280),
])
def test_backbones_map_images_to_feature_vectors(name: str, size: tuple[int, int], features: int) -> None:
    module, n = create_backbone(name)
    assert n == features
    module.eval()
    with torch.no_grad():
        out = module(torch.randn(2, 3, *size))
    assert out.shape == (2, features) and torch.isfinite(out).all()


def test_imagenet_without_the_file_says_where_it_looked(empty_hub: Path) -> None:
    with pytest.raises(WeightsUnavailableError) as info:
        create_backbone("resnet18", weights="imagenet")
    message = str(info.value)
    assert "resnet18-f37072fd.pth" in message and str(empty_hub / "checkpoints") in message
    assert "TORCH_HOME" in message
    with pytest.raises(WeightsUnavailableError, match="no ImageNet weights"):
        create_backbone("small_cnn", weights="imagenet")


def test_imagenet_file_in_the_hub_cache_is_used(empty_hub: Path) -> None:
    import torchvision

    reference = torchvision.models.resnet18(weights=None)
    (empty_hub / "checkpoints").mkdir(parents=True)
    torch.save(reference.state_dict(), empty_hub / "checkpoints" / "resnet18-f37072fd.pth")
    assert imagenet_weights_file("resnet18").name == "resnet18-f37072fd.pth"
    module, n = create_backbone("resnet18", weights="imagenet")
    assert n == 512 and torch.equal(module.conv1.weight, reference.conv1.weight)


def test_weights_from_a_path_torch_or_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    source, _ = create_backbone("small_cnn")
    torch.save(source.state_dict(), tmp_path / "w.pt")
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "w.safetensors"))
    for file in ("w.pt", "w.safetensors"):
        loaded, _ = create_backbone("small_cnn", weights=tmp_path / file)
        for (k, a), b in zip(source.state_dict().items(), loaded.state_dict().values()):
            assert torch.equal(a, b), k
    with pytest.raises(WeightsUnavailableError, match="does not fit"):
        create_backbone("resnet18", weights=tmp_path / "w.pt")
    with pytest.raises(WeightsUnavailableError, match="does not exist"):
        create_backbone("small_cnn", weights=tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailableError, match="could not be read"):
        create_backbone("small_cnn", weights=tmp_path / "bad.pt")


def test_efficientnet_lite0_imagenet_weights_load_from_the_package(empty_hub: Path) -> None:
    path = efficientnet_lite0_package_file()
    assert path is not None and path.is_file()
    reference = torch.load(path, map_location="cpu", weights_only=True)
    module, n = create_backbone("efficientnet_lite0", weights="imagenet")
    assert n == 1280
    state = module.state_dict()
    assert set(state) == {k for k in reference if not k.startswith("_fc.")}
    assert all(torch.equal(state[k], reference[k]) for k in state)
    # The ImageNet classifier on top of our feature module reproduces a sensible network: features of
    # a plain grey image are finite and not all zero.
    module.eval()
    with torch.no_grad():
        f = module(torch.zeros(1, 3, 96, 192))
    assert torch.isfinite(f).all() and f.abs().sum() > 0


def test_embedding_net_shape_normalisation_and_rebuild() -> None:
    config = ModelConfig(backbone="small_cnn", embedding_dim=12, image_height=32, image_width=64)
    net = EmbeddingNet(config).eval()
    x = torch.randn(3, 3, 32, 64)
    with torch.no_grad():
        z = net(x)
    assert z.shape == (3, 12)
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)
    rebuilt = EmbeddingNet(ModelConfig.from_dict(config.to_dict()))
    rebuilt.load_state_dict(net.state_dict())
    with torch.no_grad():
        assert torch.allclose(rebuilt.eval()(x), z)
    raw = EmbeddingNet(ModelConfig(backbone="small_cnn", embedding_dim=12, normalize=False, image_height=32, image_width=64))
    with torch.no_grad():
        assert not torch.allclose(raw.eval()(x).norm(dim=1), torch.ones(3))


def test_embedding_net_pretrained_lite0() -> None:
    net = EmbeddingNet(ModelConfig(backbone="efficientnet_lite0", embedding_dim=8, image_height=64, image_width=128), pretrained=True)
    assert net.feature_dim == 1280


def test_pretrained_is_ignored_by_a_family_without_imagenet_weights(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """The default asks for ImageNet weights; a user who picks small_cnn still trains (from random weights),
    while a family that has weights but not on this machine is a clear error, never a download."""
    from banknote_guard.errors import WeightsUnavailableError
    from banknote_guard.model.backbones import has_imagenet_weights

    assert not has_imagenet_weights("small_cnn") and has_imagenet_weights("efficientnet_lite0")
    assert has_imagenet_weights("resnet18")
    config = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64)
    torch.manual_seed(0)
    a = EmbeddingNet(config, pretrained=True)
    torch.manual_seed(0)
    b = EmbeddingNet(config)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache
    with pytest.raises(WeightsUnavailableError, match="nothing is downloaded"):
        EmbeddingNet(ModelConfig(backbone="resnet18", embedding_dim=8, image_height=32, image_width=64), pretrained=True)


def test_embedding_net_rejects_bad_config() -> None:
    with pytest.raises(ParameterError, match="embedding_dim"):
        EmbeddingNet(ModelConfig(embedding_dim=0))
    with pytest.raises(ParameterError, match="image_height"):
        EmbeddingNet(ModelConfig(backbone="inception_v3", image_height=64))
    with pytest.raises(ParameterError, match="backbone"):
        EmbeddingNet(ModelConfig(backbone="nope"))
