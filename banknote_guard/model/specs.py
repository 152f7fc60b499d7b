"""What the verification side needs to know about a network, without torch.

A verification station runs the network with onnxruntime and has no torch installed, yet it must
still check a model file's network settings (:func:`validate_model_config`) and normalise its input
the way the backbone's weights expect (:func:`backbone_normalization`). Those facts live here, in a
module that imports only the standard library; :mod:`~banknote_guard.model.backbones` adds the torch
modules that build each backbone to the same table (:data:`BACKBONE_INFO`).
"""

from __future__ import annotations

from dataclasses import dataclass

from banknote_guard.errors import parameter_error
from banknote_guard.model.config import ModelConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: EfficientNet-Lite was trained on inputs scaled to [-1, 1] ((x - 127) / 128 in the reference code).
HALF_MEAN = (0.5, 0.5, 0.5)
HALF_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class BackboneInfo:
    """One backbone family, as the model file and the input pipeline see it.

    Attributes:
        name: registry name (stored in a model file's ``model_config["backbone"]``).
        description: one line for people (``--help``, the GUI).
        imagenet_files: checkpoint file names to look for in the torch hub cache, best first.
        mean, std: input normalisation the weights expect (per RGB channel, on [0, 1] pixels).
        min_size: smallest input side the architecture accepts.
        packaged_weights: its ImageNet weights come with a Python package (no hub file needed).
    """

    name: str
    description: str
    imagenet_files: tuple[str, ...] = ()
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    min_size: int = 32
    packaged_weights: bool = False


def _tv(name: str, description: str, files: tuple[str, ...], min_size: int = 32) -> BackboneInfo:
    return BackboneInfo(name, description, imagenet_files=files, min_size=min_size)


#: Every backbone family, in the order forms and ``--help`` list them.
BACKBONE_INFO: dict[str, BackboneInfo] = {
    info.name: info
    for info in (
        BackboneInfo("small_cnn", "Small CNN of our own, fast on a CPU (no ImageNet weights).",
                     mean=HALF_MEAN, std=HALF_STD),
        _tv("resnet18", "torchvision ResNet-18 (512 features).", ("resnet18-f37072fd.pth",)),
        _tv("resnet50", "torchvision ResNet-50 (2048 features).", ("resnet50-11ad3fa6.pth", "resnet50-0676ba61.pth")),
        _tv("vgg16", "torchvision VGG16 convolutional part (512 features).", ("vgg16-397923af.pth",)),
        _tv("inception_v3", "torchvision Inception-V3 (2048 features; input >= 75 px).",
            ("inception_v3_google-0cc3c7bd.pth",), min_size=75),
        _tv("mobilenet_v3_small", "torchvision MobileNet-V3 small (576 features).", ("mobilenet_v3_small-047dcff4.pth",)),
        _tv("mobilenet_v3_large", "torchvision MobileNet-V3 large (960 features).",
            ("mobilenet_v3_large-5c1a4163.pth", "mobilenet_v3_large-8738ca79.pth")),
        _tv("efficientnet_b0", "torchvision EfficientNet-B0 (1280 features).", ("efficientnet_b0_rwightman-7f5810bc.pth",)),
        BackboneInfo(
            "efficientnet_lite0",
            "EfficientNet-Lite0 (1280 features); ImageNet weights ship with the application.",
            mean=HALF_MEAN,
            std=HALF_STD,
            packaged_weights=True,
        ),
    )
}


def get_backbone_info(name: str) -> BackboneInfo:
    """The table entry for ``name``; raises ParameterError listing the known names."""
    try:
        return BACKBONE_INFO[name]
    except KeyError:
        raise parameter_error("backbone", "create_backbone", "one of " + ", ".join(BACKBONE_INFO), name) from None


def has_imagenet_weights(name: str) -> bool:
    """Whether the family ``name`` has ImageNet weights at all (whether they are on this machine is another
    question: :func:`~banknote_guard.model.backbones.imagenet_weights_file`). ``small_cnn`` has none."""
    info = get_backbone_info(name)
    return info.packaged_weights or bool(info.imagenet_files)


def backbone_normalization(name: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(mean, std) per RGB channel on [0, 1] pixels that the backbone's weights expect."""
    info = get_backbone_info(name)
    return info.mean, info.std


def validate_model_config(config: ModelConfig) -> None:
    """Raise ParameterError for a configuration no network can be built from."""
    spec = get_backbone_info(config.backbone)
    if not isinstance(config.embedding_dim, int) or not 2 <= config.embedding_dim <= 4096:
        raise parameter_error("embedding_dim", "ModelConfig", "an integer in [2, 4096]", config.embedding_dim)
    for field_name in ("image_height", "image_width"):
        value = getattr(config, field_name)
        if not isinstance(value, int) or not spec.min_size <= value <= 2048:
            raise parameter_error(
                field_name, "ModelConfig", f"an integer in [{spec.min_size}, 2048] for {spec.name}", value
            )
    if config.distance not in ("sqeuclidean", "cosine"):
        raise parameter_error("distance", "ModelConfig", "'sqeuclidean' or 'cosine'", config.distance)
    p = config.detail_patches
    if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 256:
        raise parameter_error("detail_patches", "ModelConfig", "an integer in [0, 256] (0: no texture branch)", p)
    if p == 0:
        return
    for field_name, low in (("detail_height", config.image_height), ("detail_width", config.image_width)):
        value = getattr(config, field_name)
        if not isinstance(value, int) or not low <= value <= 4096:
            raise parameter_error(
                field_name, "ModelConfig", f"an integer in [{low}, 4096] (at least the global view's size)", value
            )
    side = min(config.detail_height, config.detail_width)
    s = config.detail_patch_size
    if not isinstance(s, int) or not 8 <= s <= side:
        raise parameter_error("detail_patch_size", "ModelConfig", f"an integer in [8, {side}]", s)
    d = config.detail_dim
    if not isinstance(d, int) or not 4 <= d <= 1024:
        raise parameter_error("detail_dim", "ModelConfig", "an integer in [4, 1024]", d)
