"""Where the network runs: device choice, mixed precision, and the settings of a training run's hardware.

* :func:`resolve_device` turns ``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"`` into a ``torch.device``,
  or raises :class:`DeviceUnavailableError` with what is missing (a CPU-only PyTorch build, no GPU or
  driver, a GPU index that does not exist, no Apple GPU). ``auto`` picks a CUDA GPU when one is usable
  and the CPU otherwise; Apple's MPS is used only when asked for (``mps``), since its speed and
  results are not measured here.
* :func:`resolve_precision` turns ``"auto" | "fp32" | "bf16" | "fp16"`` into the autocast settings:
  mixed precision is for CUDA GPUs (bf16 where the GPU supports it, else fp16 with loss scaling);
  the CPU and MPS train in fp32.
* :func:`use_device` checks a device and makes it the one inference uses by default in this process
  (the torch :class:`~banknote_guard.model.embedder.Embedder`; :func:`requested_device` gives the name
  to other engines): ``verify``, ``enroll`` and ``evaluate`` call it for ``--device``.

torch is imported only when a device is resolved, so a verification station without torch can still
import this module and run on the CPU.
* :class:`TrainRuntime`: the hardware settings of one training run (device, precision, data-loader
  worker processes, pinned memory, mining scope under distributed training). They change speed, not
  the recipe, so they are not part of :class:`~banknote_guard.model.config.TrainConfig` and a run may
  be resumed under other ones.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from banknote_guard.errors import ParameterError, parameter_error

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("auto", "fp32", "bf16", "fp16")
MINING_SCOPES = ("rank", "global")

Precision = Literal["auto", "fp32", "bf16", "fp16"]
MiningScope = Literal["rank", "global"]

_DEVICE_RE = re.compile(r"(auto|cpu|cuda|mps)(?::(\d+))?")


class DeviceUnavailableError(ParameterError):
    """The device asked for (``--device cuda``, ``mps``) is not usable on this machine; the message says why."""


def _cuda_missing_reason() -> str:
    """Why CUDA is not usable here, in words an operator can act on."""
    import torch

    if torch.version.cuda is None:
        return (
            f"this PyTorch ({torch.__version__}) is a CPU-only build without CUDA support; install a CUDA build "
            "of PyTorch on a machine with an NVIDIA GPU"
        )
    return (
        f"PyTorch {torch.__version__} (built for CUDA {torch.version.cuda}) finds no usable NVIDIA GPU: no GPU, "
        "no driver, or CUDA_VISIBLE_DEVICES hides them"
    )


def cuda_available() -> bool:
    """Whether a CUDA GPU is usable (False on CPU-only builds)."""
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    """Whether Apple's Metal GPU (MPS) is usable."""
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def parse_device(name: object) -> tuple[str, int | None]:
    """``(kind, index)`` of a device name (``"cuda:1"`` -> ("cuda", 1)); ParameterError for other text."""
    text = str(name or "auto").strip().lower()
    m = _DEVICE_RE.fullmatch(text)
    if m is None or (m.group(2) is not None and m.group(1) != "cuda"):
        raise parameter_error("device", "banknote_guard", "auto, cpu, cuda, cuda:N or mps", name)
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def resolve_device(name: "str | torch.device | None" = "auto", *, local_rank: int | None = None) -> "torch.device":
    """The ``torch.device`` for a device name.

    Args:
        name: ``"auto"`` (None too): a CUDA GPU when usable, else the CPU; ``"cpu"``; ``"cuda"`` or
            ``"cuda:N"``; ``"mps"`` (Apple GPU).
        local_rank: under distributed training, the process's index on its machine: ``auto``/``cuda``
            then mean GPU ``cuda:<local_rank>``.

    Raises:
        DeviceUnavailableError: a GPU was asked for and is not usable (the message says why and what to do).
        ParameterError: an unknown device name.
    """
    import torch

    kind, index = parse_device(name)
    text = str(name).strip().lower()
    if kind == "auto":
        kind = "cuda" if cuda_available() else "cpu"
    if kind == "cpu":
        return torch.device("cpu")
    if kind == "mps":
        if not mps_available():
            raise DeviceUnavailableError(
                "--device mps asks for Apple's Metal GPU, which is not available on this machine "
                "(it needs a Mac with Apple silicon and a PyTorch build with MPS). Use --device cpu or auto."
            )
        return torch.device("mps")
    if not cuda_available():
        raise DeviceUnavailableError(f"--device {text} asks for a CUDA GPU, but {_cuda_missing_reason()}. "
                                     "Use --device cpu (or auto, which falls back to the CPU).")
    if index is None:
        index = local_rank or 0
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceUnavailableError(
            f"GPU cuda:{index} does not exist: this machine has {count} CUDA GPU(s) (cuda:0 to cuda:{count - 1}). "
            "Start at most that many processes per machine (torchrun --nproc-per-node) or pick another GPU."
        )
    return torch.device("cuda", index)


def describe_device(device: "torch.device") -> str:
    """One line naming a device: ``"cuda:0 (NVIDIA H200, 139.8 GiB)"``, ``"cpu (2 threads)"``."""
    import torch

    if device.type == "cuda":
        index = 0 if device.index is None else device.index
        props = torch.cuda.get_device_properties(index)
        return f"cuda:{index} ({props.name}, {props.total_memory / 2**30:.1f} GiB)"
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"cpu ({threads} thread{'s' if threads != 1 else ''})"
    return str(device)


@dataclass(frozen=True)
class AutocastSettings:
    """How the forward pass runs: ``dtype`` None means fp32 (no autocast)."""

    dtype: "torch.dtype | None"
    #: Loss scaling is needed (fp16 gradients underflow without it).
    scale_loss: bool

    @property
    def enabled(self) -> bool:
        return self.dtype is not None

    @property
    def name(self) -> str:
        return "fp32" if self.dtype is None else {"torch.bfloat16": "bf16", "torch.float16": "fp16"}.get(
            str(self.dtype), str(self.dtype)
        )


def resolve_precision(precision: str | None, device: "torch.device") -> AutocastSettings:
    """The autocast settings of ``precision`` on ``device``.

    ``auto``: on a CUDA GPU bf16 when it supports it (Ampere and newer), else fp16 with loss scaling;
    on other devices fp32. ``bf16`` / ``fp16`` are for CUDA GPUs only (a clear error elsewhere).
    """
    import torch

    text = (precision or "auto").strip().lower()
    if text not in PRECISION_CHOICES:
        raise parameter_error("precision", "banknote_guard", "one of " + ", ".join(PRECISION_CHOICES), precision)
    if text == "fp32" or (text == "auto" and device.type != "cuda"):
        return AutocastSettings(None, False)
    if device.type != "cuda":
        raise ParameterError(
            f"--precision {text} (mixed precision) is for CUDA GPUs; on the {device.type.upper()} the network runs "
            "in fp32. Use --precision auto or fp32, or --device cuda on a machine with an NVIDIA GPU."
        )
    bf16_ok = bool(torch.cuda.is_bf16_supported())
    if text == "bf16" and not bf16_ok:
        raise DeviceUnavailableError(
            f"--precision bf16: {describe_device(device)} does not support bfloat16 (it needs an Ampere or newer "
            "GPU). Use --precision fp16 or auto."
        )
    if text == "fp16" or (text == "auto" and not bf16_ok):
        return AutocastSettings(torch.float16, True)
    return AutocastSettings(torch.bfloat16, False)


# --- the process's inference device ---------------------------------------------------------------

_requested: str | None = None


def use_device(name: str | None = "auto") -> str:
    """Check ``name`` and make it the device inference uses by default in this process; returns the
    device it stands for (``"cuda:0"``, ``"cpu"``, ...).

    Without torch (a verification station) ``auto`` and ``cpu`` mean the CPU and a GPU is refused.

    Raises:
        DeviceUnavailableError: the device is not usable here (nothing is changed then).
        ParameterError: an unknown device name.
    """
    global _requested
    kind, _ = parse_device(name)
    if importlib.util.find_spec("torch") is None:
        if kind in ("cuda", "mps"):
            raise DeviceUnavailableError(
                f"--device {name} asks for a GPU, but PyTorch is not installed here (a verification station "
                "verifies on the CPU with onnxruntime). Use --device cpu or auto."
            )
        _requested = "cpu"
        return "cpu"
    device = str(resolve_device(name))
    _requested = device
    return device


def requested_device() -> str | None:
    """The device set by :func:`use_device` (``"cuda:0"``, ``"cpu"``, ...), or None when none was set."""
    return _requested


def preferred_device() -> "torch.device":
    """The device set by :func:`use_device`, else ``auto`` (a CUDA GPU when usable, else the CPU)."""
    return resolve_device(_requested or "auto")


# --- a training run's hardware ----------------------------------------------------------------------


def default_loader_workers(device: "torch.device", local_world_size: int = 1) -> int:
    """Data-loader worker processes by default: none on the CPU (augmenting inline is as fast on shared
    cores), on a GPU up to 4 per process from the CPU cores this machine gives each process."""
    if device.type == "cpu":
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(0, min(4, cores // max(1, local_world_size) - 1))


@dataclass(frozen=True)
class TrainRuntime:
    """Hardware settings of a training run (they change its speed, not its recipe).

    Attributes:
        device: ``auto`` (a CUDA GPU when usable, else the CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
            Under torchrun each process takes GPU ``cuda:<LOCAL_RANK>``.
        precision: ``auto`` (bf16/fp16 autocast on CUDA, fp32 elsewhere), ``fp32``, ``bf16`` or ``fp16``.
        loader_workers: worker processes that augment batches ahead of the GPU (None: 0 on the CPU, up
            to 4 on a GPU; 0: augment in the training process, the single-process reference path).
        pin_memory: page-locked host memory for the batches (None: on with a CUDA GPU).
        mining_scope: under distributed training, where the loss finds its tuples: ``rank`` (each
            process's own P x K batch, as one process would) or ``global`` (every process's embeddings,
            gathered; gradients flow through the process's own). No effect in one process.
    """

    device: str = "auto"
    precision: Precision = "auto"
    loader_workers: int | None = None
    pin_memory: bool | None = None
    mining_scope: MiningScope = "rank"

    def check(self) -> None:
        """Raise ParameterError for values that cannot be used (device availability is checked later)."""
        if self.precision not in PRECISION_CHOICES:
            raise parameter_error("precision", "TrainRuntime", "one of " + ", ".join(PRECISION_CHOICES), self.precision)
        if self.mining_scope not in MINING_SCOPES:
            raise parameter_error("mining_scope", "TrainRuntime", "rank or global", self.mining_scope)
        if self.loader_workers is not None and (not isinstance(self.loader_workers, int) or self.loader_workers < 0):
            raise parameter_error("loader_workers", "TrainRuntime", "None or an integer >= 0", self.loader_workers)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
