"""Command-line flags for training and calibration, built on the engine's config objects.

``add_train_arguments(parser)`` adds one flag per :class:`TrainConfig` / :class:`ModelConfig` setting
(defaults shown come from the dataclasses, so the CLI, the GUI and the library agree);
``train_config_from_args(args)`` builds the config back. ``add_runtime_arguments`` and
``runtime_from_args`` do the same for the hardware of a run (:class:`TrainRuntime`: device, precision,
loader workers, mining scope under torchrun). ``add_calibration_arguments`` and
``calibration_config_from_args`` do the same for :class:`CalibrationConfig` (false-alarm rate, SVMs).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from typing import Any

from banknote_guard import api
from banknote_guard.api import CalibrationConfig, ModelConfig, TrainConfig, TrainRuntime
from banknote_guard.commands.device_args import add_device_argument
from banknote_guard.errors import parameter_error


def _help(cls: type, name: str) -> str:
    name = {"detail_size": "detail_width"}.get(name, name)
    for f in fields(cls):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    return ""  # pragma: no cover


def parse_image_size(text: str) -> tuple[int, int]:
    """``"96x192"`` -> (96, 192) (height x width)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX*,]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"image size must look like HEIGHTxWIDTH, e.g. 96x192 (got {text!r})")
    return int(m.group(1)), int(m.group(2))


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the training flags (grouped under "training") to ``parser``; every default is None = config default."""
    t, m = TrainConfig(), ModelConfig()
    g = parser.add_argument_group("training")

    def add(flag: str, cls: type, name: str, default: Any, **kw: Any) -> None:
        if "metavar" not in kw and "choices" not in kw:
            kw["metavar"] = {int: "N", float: "X"}.get(kw.get("type"), "VALUE")  # type: ignore[arg-type]
        g.add_argument(flag, dest=f"tc_{name}", default=None, help=f"{_help(cls, name)} (default: {default})", **kw)

    add("--loss", TrainConfig, "loss", t.loss, choices=["quadruplet", "triplet", "contrastive"])
    add("--margin", TrainConfig, "margin", t.margin, type=float)
    add("--margin2", TrainConfig, "margin2", t.margin2, type=float)
    g.add_argument("--adaptive-margin", dest="tc_adaptive_margin", action="store_true", default=None,
                   help=_help(TrainConfig, "adaptive_margin"))
    add("--mining", TrainConfig, "mining", t.mining, choices=["hard", "semihard", "all"])
    add("--backbone", ModelConfig, "backbone", m.backbone, choices=[name for name, _ in api.available_backbones()])
    g.add_argument("--pretrained", dest="tc_pretrained", action="store_true", default=None,
                   help=_help(TrainConfig, "pretrained") + f" (default: {'on' if t.pretrained else 'off'})")
    g.add_argument("--no-pretrained", dest="tc_pretrained", action="store_false", default=None,
                   help="Start the backbone from random weights instead of ImageNet weights.")
    add("--embedding-dim", ModelConfig, "embedding_dim", m.embedding_dim, type=int)
    add("--distance", ModelConfig, "distance", m.distance, choices=["sqeuclidean", "cosine"])
    g.add_argument("--no-normalize", dest="tc_normalize", action="store_false", default=None,
                   help="Do not L2-normalise embeddings.")
    add("--image-size", ModelConfig, "image_size", f"{m.image_height}x{m.image_width}", type=parse_image_size,
        metavar="HxW")
    add("--detail-patches", ModelConfig, "detail_patches", m.detail_patches, type=int, metavar="N")
    add("--detail-size", ModelConfig, "detail_size", f"{m.detail_height}x{m.detail_width}", type=parse_image_size,
        metavar="HxW")
    add("--detail-patch-size", ModelConfig, "detail_patch_size", m.detail_patch_size, type=int, metavar="PX")
    add("--epochs", TrainConfig, "epochs", t.epochs, type=int)
    add("--steps-per-epoch", TrainConfig, "steps_per_epoch", t.steps_per_epoch, type=int)
    add("--classes-per-batch", TrainConfig, "classes_per_batch", t.classes_per_batch, type=int, metavar="P")
    add("--images-per-class", TrainConfig, "images_per_class", t.images_per_class, type=int, metavar="K")
    add("--lr", TrainConfig, "learning_rate", t.learning_rate, type=float)
    add("--weight-decay", TrainConfig, "weight_decay", t.weight_decay, type=float)
    add("--seed", TrainConfig, "seed", t.seed, type=int)
    add("--threads", TrainConfig, "num_threads", "all cores", type=int)
    add("--patience", TrainConfig, "patience", t.patience, type=int)
    add("--val-fraction", TrainConfig, "val_fraction", t.val_fraction, type=float)
    g.add_argument("--split-sides", dest="tc_split_sides", action="store_true", default=None,
                   help=_help(TrainConfig, "split_sides"))
    g.add_argument("--no-augment", dest="tc_augment", action="store_false", default=None,
                   help="Train without random capture variation.")


def train_config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A TrainConfig from parsed flags: flags that were given override the defaults."""
    config = TrainConfig()
    model_fields = {f.name for f in fields(ModelConfig)}
    for name, value in vars(args).items():
        if not name.startswith("tc_") or value is None:
            continue
        key = name[3:]
        if key == "image_size":
            config.model.image_height, config.model.image_width = value
        elif key == "detail_size":
            config.model.detail_height, config.model.detail_width = value
        elif key in model_fields:
            setattr(config.model, key, value)
        elif hasattr(config, key):
            setattr(config, key, value)
        else:  # pragma: no cover - every flag above maps to a field
            raise parameter_error(key, "train_config_from_args", "a TrainConfig field", key)
    return config


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the hardware flags (grouped under "hardware"): --device, --precision, --loader-workers,
    --no-pin-memory, --mining-scope."""
    r = TrainRuntime()
    g = parser.add_argument_group(
        "hardware", "Where and how the network trains. Under torchrun (torchrun --nproc-per-node N -m banknote_guard "
        "train ...) each process takes GPU cuda:LOCAL_RANK (NCCL) or the CPU (gloo)."
    )
    add_device_argument(g)
    g.add_argument("--precision", choices=api.PRECISION_CHOICES, default=r.precision,
                   help="auto: bf16 autocast on CUDA GPUs that support it, else fp16 with loss scaling; fp32 on "
                   "CPUs and MPS. bf16/fp16 need a CUDA GPU (default: auto)")
    g.add_argument("--loader-workers", type=int, default=None, metavar="N",
                   help="worker processes that augment batches ahead of the GPU (default: 0 on the CPU, up to 4 "
                   "per process on a GPU; 0 augments in the training process)")
    g.add_argument("--no-pin-memory", dest="pin_memory", action="store_false", default=None,
                   help="do not put batches in page-locked memory for the GPU (default: pinned on CUDA)")
    g.add_argument("--mining-scope", choices=api.MINING_SCOPES, default=r.mining_scope,
                   help="under torchrun, where the loss finds its tuples: rank (each process's own P x K batch, "
                   "as one process would) or global (all processes' embeddings, gathered) (default: rank)")


def runtime_from_args(args: argparse.Namespace) -> TrainRuntime:
    """The :class:`TrainRuntime` of parsed flags (raises a readable ParameterError for bad values)."""
    if args.loader_workers is not None and args.loader_workers < 0:
        raise parameter_error("--loader-workers", "train", "an integer >= 0", args.loader_workers)
    runtime = TrainRuntime(
        device=args.device, precision=args.precision, loader_workers=args.loader_workers,
        pin_memory=args.pin_memory, mining_scope=args.mining_scope,
    )
    runtime.check()
    return runtime


def add_calibration_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--far``, ``--svm-kernel`` and ``--svm-data``; defaults and ranges from :class:`CalibrationConfig`."""
    c = CalibrationConfig()
    lo, hi = api.FALSE_ALARM_RANGE
    parser.add_argument("--far", type=float, default=c.false_alarm_rate, metavar="RATE",
                        help=f"false-alarm rate the thresholds are calibrated for, {lo:g} to {hi:g} "
                        f"(default {c.false_alarm_rate:g} = {c.false_alarm_rate * 100:g}%%)")
    parser.add_argument("--svm-kernel", choices=api.SVM_KERNELS, default=c.svm_kernel,
                        help=f"kernel of the one-vs-rest SVMs (default {c.svm_kernel})")
    parser.add_argument("--svm-data", choices=api.SVM_DATA_CHOICES, default=c.svm_data,
                        help="fit the SVMs on the training genuine notes or on the held-out ones "
                        f"(default {c.svm_data})")


def calibration_config_from_args(args: argparse.Namespace) -> CalibrationConfig:
    """The :class:`CalibrationConfig` of parsed flags (raises a readable ParameterError when out of range)."""
    return CalibrationConfig(false_alarm_rate=args.far, svm_kernel=args.svm_kernel, svm_data=args.svm_data)
