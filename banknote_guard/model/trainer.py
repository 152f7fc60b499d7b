"""Training of the embedding network: one loop you can read top to bottom.

``train(dataset, config, checkpoint_path=...)``:

1. split the records (stratified by class) unless the caller gives the split;
2. read and rectify every image once into memory (stage "prepare", thread pool);
3. per epoch: class-balanced P x K batches (a denomination's genuine and counterfeit classes together),
   augmentation, the metric loss (quadruplet by default), AdamW with warm-up + cosine decay;
4. after each epoch: the validation metric (genuine-vs-counterfeit ROC AUC of the distance to each
   denomination's genuine centroid, catch rate at 1 % false alarms, denomination accuracy), early
   stopping on their mean, and an atomic checkpoint;
5. return the best epoch's network in eval mode.

Checkpoints hold only tensors and plain Python values (configs as dicts), so ``torch.load(...,
weights_only=True)`` reads them. ``resume=True`` continues from the checkpoint's last finished epoch;
the batches and augmentation of an epoch depend only on (seed, epoch), so a resumed run follows the
same path as an uninterrupted one.

Cancelling (``cancel.cancel()``) is checked between training steps and validation batches: the run
stops within about one step, the last epoch checkpoint stays on disk, and ``train`` returns a
:class:`TrainResult` with ``cancelled=True`` and the best weights so far. If no epoch had finished yet it raises
:class:`~banknote_guard.errors.CancelledError` instead (there is nothing to return).
"""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from banknote_guard.data.records import Dataset, ImageRecord
from banknote_guard.errors import CancelledError, ModelFileError, ParameterError, parameter_error
from banknote_guard.fileio import atomic_path
from banknote_guard.model.augment import augment_batch, augment_two_views
from banknote_guard.model.config import ModelConfig, TrainConfig
from banknote_guard.model.embedder import prepare_paths
from banknote_guard.model.losses import create_loss
from banknote_guard.model.network import EmbeddingNet, validate_model_config
from banknote_guard.model.preprocess import normalize_tensor, prepared_size, to_tensor
from banknote_guard.model.sampler import PKSampler, training_key
from banknote_guard.model.split import split_records
from banknote_guard.model.validation import verification_metrics
from banknote_guard.progress import CancelToken, Progress, ProgressCallback, check_cancel, report

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "banknote_guard.train_checkpoint"
CHECKPOINT_VERSION = 1
#: TrainConfig fields that may change between a run and its resumption.
RESUMABLE_CHANGES = frozenset({"epochs", "patience", "num_threads"})
#: At most this many training genuine notes per denomination build the validation centroids.
MAX_REFERENCE_PER_DENOM = 48


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        net: the network with the best epoch's weights, in eval mode (on the CPU).
        model_config, train_config: the configurations used.
        history: one dict per finished epoch: epoch (1-based), train_loss, val_auc, val_catch_rate,
            val_denom_accuracy, val_score, seconds, lr, images_per_second.
        best_epoch: 1-based epoch whose weights ``net`` holds (0 if none).
        stopped_early: early stopping ended the run.
        cancelled: the run was cancelled; ``net`` holds the best weights so far.
        train_records, val_records: the split used (records whose image could not be read are dropped).
        seconds: wall time of this call.
        images_per_second: training throughput (forward + backward, augmentation included).
        failures: (path, message) of images that could not be read.
        train_images, val_images: the prepared notes, (N, H, W, 3) uint8 (H, W:
            :func:`~banknote_guard.model.preprocess.prepared_size`) aligned with
            ``train_records`` / ``val_records``, so that callers can embed them without reading the
            files again.
    """

    net: EmbeddingNet
    model_config: ModelConfig
    train_config: TrainConfig
    history: list[dict[str, float]]
    best_epoch: int
    stopped_early: bool
    cancelled: bool
    train_records: list[ImageRecord]
    val_records: list[ImageRecord]
    seconds: float
    images_per_second: float
    failures: list[tuple[Path, str]] = field(default_factory=list)
    train_images: np.ndarray | None = field(default=None, repr=False)
    val_images: np.ndarray | None = field(default=None, repr=False)


def default_threads() -> int:
    """CPU threads for torch: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def validate_train_config(config: TrainConfig) -> None:
    """Raise ParameterError for values training cannot use."""
    validate_model_config(config.model)
    checks: list[tuple[str, bool, str]] = [
        ("epochs", isinstance(config.epochs, int) and config.epochs >= 1, "an integer >= 1"),
        ("steps_per_epoch", isinstance(config.steps_per_epoch, int) and config.steps_per_epoch >= 0, "an integer >= 0"),
        ("classes_per_batch", isinstance(config.classes_per_batch, int) and config.classes_per_batch >= 2, "an integer >= 2"),
        ("images_per_class", isinstance(config.images_per_class, int) and config.images_per_class >= 2, "an integer >= 2"),
        ("learning_rate", isinstance(config.learning_rate, (int, float)) and 0 < config.learning_rate < 1, "a float in (0, 1)"),
        ("weight_decay", isinstance(config.weight_decay, (int, float)) and config.weight_decay >= 0, "a float >= 0"),
        ("val_fraction", isinstance(config.val_fraction, (int, float)) and 0 <= config.val_fraction < 1, "a float in [0, 1)"),
        ("patience", isinstance(config.patience, int) and config.patience >= 1, "an integer >= 1"),
        ("num_threads", config.num_threads is None or (isinstance(config.num_threads, int) and config.num_threads >= 1), "None or an integer >= 1"),
    ]
    for name, ok, expected in checks:
        if not ok:
            raise parameter_error(name, "TrainConfig", expected, getattr(config, name))
    create_loss(config)  # validates loss, margins and mining


def _seed_for(seed: int, *parts: int) -> int:
    return random.Random(f"{seed}|" + "|".join(map(str, parts))).getrandbits(63)


def lr_factor(step: int, total_steps: int, warmup_steps: int, floor: float = 0.02) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to ``floor``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _embed_array(
    net: EmbeddingNet,
    images: np.ndarray,
    config: ModelConfig,
    device: torch.device,
    batch: int = 128,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    out = []
    net.eval()
    with torch.inference_mode():
        for s in range(0, len(images), batch):
            check_cancel(cancel)
            x = to_tensor(images[s : s + batch], config).to(device)
            with torch.autocast(device.type, enabled=device.type == "cuda"):
                out.append(net(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, config.embedding_dim), np.float32)


def _reference_indices(records: list[ImageRecord], seed: int) -> list[int]:
    """Training genuine notes used for the validation centroids (capped per denomination)."""
    by_denom: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        if r.is_genuine:
            by_denom.setdefault(r.denom_id, []).append(i)
    out: list[int] = []
    for d in sorted(by_denom):
        idx = by_denom[d]
        if len(idx) > MAX_REFERENCE_PER_DENOM:
            idx = sorted(random.Random(f"{seed}|{d}").sample(idx, MAX_REFERENCE_PER_DENOM))
        out += idx
    return out


def validate_epoch(
    net: EmbeddingNet,
    config: ModelConfig,
    train_images: np.ndarray,
    train_records: list[ImageRecord],
    val_images: np.ndarray,
    val_records: list[ImageRecord],
    ref_idx: list[int],
    device: torch.device,
    split_sides: bool = False,
    cancel: CancelToken | None = None,
) -> dict[str, float]:
    """Validation metrics (see :func:`~banknote_guard.model.validation.verification_metrics`)."""
    if not val_records or not ref_idx:
        return {"auc": math.nan, "catch_rate": math.nan, "denom_accuracy": math.nan, "score": math.nan}
    ref = _embed_array(net, train_images[ref_idx], config, device, cancel=cancel)
    val = _embed_array(net, val_images, config, device, cancel=cancel)
    return verification_metrics(
        ref,
        [train_records[i].denom_id for i in ref_idx],
        val,
        [r.denom_id for r in val_records],
        [r.is_genuine for r in val_records],
        distance=config.distance,
        ref_groups=[training_key(train_records[i], split_sides) for i in ref_idx],
    )


# --- checkpoints ------------------------------------------------------------------------------------


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (a reader sees the old or the new file, never half of one)."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint (tensors and plain values only); ModelFileError if unusable."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ModelFileError(f"Training checkpoint {str(path)!r} does not exist.") from None
    except Exception as exc:  # noqa: BLE001 - corrupt, truncated or foreign file
        raise ModelFileError(f"Training checkpoint {str(path)!r} cannot be read ({exc}).") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError(f"{str(path)!r} is not a banknote_guard training checkpoint.")
    if int(state.get("version", 0)) > CHECKPOINT_VERSION:
        raise ModelFileError(f"Training checkpoint {str(path)!r} comes from a newer version of banknote_guard.")
    return state


def _check_resumable(state: dict[str, Any], config: TrainConfig, train_paths: list[str], path: Path) -> None:
    problems = []
    if state["model_config"] != config.model.to_dict():
        problems.append("the network settings differ")
    saved = TrainConfig.from_dict(state["train_config"]).to_dict()  # fields added since take their defaults
    old = {k: v for k, v in saved.items() if k not in RESUMABLE_CHANGES and k != "model"}
    new = {k: v for k, v in config.to_dict().items() if k not in RESUMABLE_CHANGES and k != "model"}
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if changed:
        problems.append("training settings differ (" + ", ".join(changed) + ")")
    if sorted(state["train_paths"]) != sorted(train_paths):
        problems.append("the training images differ")
    if problems:
        raise ParameterError(
            f"Cannot resume from {str(path)!r}: " + "; ".join(problems) + ". Resume with the same dataset and "
            "settings, or start a new run without resume."
        )


# --- the loop ----------------------------------------------------------------------------------------


def train(
    dataset: Dataset,
    config: TrainConfig,
    *,
    checkpoint_path: Path,
    resume: bool = False,
    train_records: list[ImageRecord] | None = None,
    val_records: list[ImageRecord] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    image_cache: dict[tuple[str, int, int], np.ndarray] | None = None,
) -> TrainResult:
    """Train an :class:`EmbeddingNet` on a dataset (see the module docstring for the steps).

    Args:
        dataset: the images (DESIGN.md §4 layout).
        config: hyper-parameters; ``config.model`` describes the network.
        checkpoint_path: where the per-epoch checkpoint is written (atomically).
        resume: continue from ``checkpoint_path`` (a missing file starts a new run; a checkpoint of
            another dataset or other settings raises ParameterError).
        train_records, val_records: the split to use; by default
            ``split_records(dataset.records, config.val_fraction, config.seed)``.
        progress: receives "prepare" reports while images are read, then "train" reports per step.
        cancel: checked between steps.
        image_cache: optional dict ``(str(path), height, width) -> prepared note`` (height and width:
            :func:`~banknote_guard.model.preprocess.prepared_size`) that is read and
            filled, so that a caller that embeds the same files afterwards (gallery, calibration)
            or trains again does not decode and rectify them a second time.

    Returns:
        A :class:`TrainResult` (``cancelled=True`` after a cancel once an epoch has finished).

    Raises:
        CancelledError: cancelled before the first epoch finished.
        ParameterError: unusable settings, too few classes, or a mismatching checkpoint.
    """
    started = time.monotonic()
    validate_train_config(config)
    checkpoint_path = Path(checkpoint_path)
    if train_records is None or val_records is None:
        train_records, val_records = split_records(list(dataset.records), config.val_fraction, config.seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.num_threads or default_threads())
    try:
        return _train(
            config, checkpoint_path, resume, list(train_records), list(val_records), progress, cancel, started,
            image_cache,
        )
    finally:
        torch.set_num_threads(previous_threads)


def _prepare(
    records: list[ImageRecord],
    config: TrainConfig,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    cache: dict[tuple[str, int, int], np.ndarray] | None,
) -> tuple[list[ImageRecord], np.ndarray, list[tuple[Path, str]]]:
    h, w = prepared_size(config.model)
    cache = {} if cache is None else cache
    todo = [r.path for r in records if (str(r.path), h, w) not in cache]
    loaded, failures = prepare_paths(todo, config.model, progress=progress, cancel=cancel)
    for path, image in zip(todo, loaded):
        if image is not None:
            cache[(str(path), h, w)] = image
    images = [cache.get((str(r.path), h, w)) for r in records]
    for path, message in failures:
        log.warning("Skipping %s: %s", path, message)
    kept = [(r, im) for r, im in zip(records, images) if im is not None]
    array = np.stack([im for _, im in kept]) if kept else np.zeros((0, h, w, 3), np.uint8)
    return [r for r, _ in kept], array, failures


def _train(
    config: TrainConfig,
    checkpoint_path: Path,
    resume: bool,
    train_records: list[ImageRecord],
    val_records: list[ImageRecord],
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    started: float,
    image_cache: dict[tuple[str, int, int], np.ndarray] | None,
) -> TrainResult:
    device = _device()
    report(progress, "prepare", "Reading and rectifying images", done=0, total=len(train_records) + len(val_records))
    train_records, train_images, failures = _prepare(train_records, config, progress, cancel, image_cache)
    val_records, val_images, val_failures = _prepare(val_records, config, progress, cancel, image_cache)
    failures += val_failures

    keys = [training_key(r, config.split_sides) for r in train_records]
    class_ids = {k: i for i, k in enumerate(sorted(set(keys)))}
    if len(class_ids) < 2:
        raise ParameterError(
            "Training needs at least two classes: two denominations, or genuine and counterfeit notes of one "
            f"(found {len(class_ids)} among {len(train_records)} readable training images)."
        )
    labels = torch.tensor([class_ids[k] for k in keys], dtype=torch.long)
    sampler = PKSampler(
        keys, config.classes_per_batch, config.images_per_class, seed=config.seed,
        batches_per_epoch=config.steps_per_epoch or None,
    )
    steps_per_epoch = len(sampler)
    total_steps = steps_per_epoch * config.epochs
    ref_idx = _reference_indices(train_records, config.seed)

    torch.manual_seed(_seed_for(config.seed, 0))
    net = EmbeddingNet(config.model, pretrained=config.pretrained).to(device)
    loss_fn = create_loss(config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup = min(steps_per_epoch, max(1, total_steps // 10))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total_steps, warmup))
    use_amp = device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    history: list[dict[str, float]] = []
    best_metric, best_epoch, bad_epochs, start_epoch = -math.inf, 0, 0, 0
    best_state = copy.deepcopy(net.state_dict())
    finished = False
    train_paths = [str(r.path) for r in train_records]
    if resume and checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path)
        _check_resumable(state, config, train_paths, checkpoint_path)
        net.load_state_dict(state["model_state"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        best_state = state["best_state"]
        best_metric, best_epoch = float(state["best_metric"]), int(state["best_epoch"])
        bad_epochs, start_epoch = int(state["bad_epochs"]), int(state["epoch"])
        history = list(state["history"])
        finished = bool(state.get("stopped_early", False))
        log.info("Resuming from %s after epoch %d", checkpoint_path, start_epoch)
    elif resume:
        log.warning("No checkpoint at %s; starting a new run.", checkpoint_path)

    def checkpoint(epoch: int, stopped_early: bool) -> None:
        save_checkpoint(
            checkpoint_path,
            {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "epoch": epoch,
                "model_state": net.state_dict(),
                "best_state": best_state,
                "best_metric": best_metric,
                "best_epoch": best_epoch,
                "bad_epochs": bad_epochs,
                "stopped_early": stopped_early,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "history": history,
                "model_config": config.model.to_dict(),
                "train_config": config.to_dict(),
                "train_paths": train_paths,
                "val_paths": [str(r.path) for r in val_records],
                "torch_rng": torch.get_rng_state(),
            },
        )

    cancelled = stopped_early = False
    train_seconds, train_images_seen = 0.0, 0
    steps_left = max(0, (config.epochs - start_epoch) * steps_per_epoch)
    loop_start, steps_done = time.monotonic(), 0
    last_metrics: dict[str, float] = {"val_auc": history[-1]["val_auc"]} if history else {}
    epoch = start_epoch
    while epoch < config.epochs and not finished:
        epoch_start = time.monotonic()
        sampler.set_epoch(epoch)
        torch.manual_seed(_seed_for(config.seed, epoch, 1))
        generator = torch.Generator().manual_seed(_seed_for(config.seed, epoch, 2))
        net.train()
        losses: list[float] = []
        step_time = 0.0
        for step, batch in enumerate(sampler):
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            t = time.monotonic()
            g: torch.Tensor | None = None
            if config.augment and net.has_detail:
                full, g = augment_two_views(
                    train_images[batch], generator, (config.model.image_height, config.model.image_width)
                )
                x = normalize_tensor(full, config.model.backbone)
                g = normalize_tensor(g, config.model.backbone).to(device, non_blocking=True)
            elif config.augment:
                x = normalize_tensor(augment_batch(train_images[batch], generator), config.model.backbone)
            else:
                x = to_tensor(train_images[batch], config.model)
            x, y = x.to(device, non_blocking=True), labels[batch].to(device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                z = net(x, g)
            loss = loss_fn(z.float(), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            losses.append(float(loss.detach()))
            step_time += time.monotonic() - t
            train_images_seen += len(batch)
            steps_done += 1
            elapsed = time.monotonic() - loop_start
            eta = elapsed / steps_done * max(0, steps_left - steps_done)
            if progress is not None:
                progress(
                    Progress(
                        stage="train",
                        message=f"Epoch {epoch + 1}/{config.epochs}",
                        done=epoch * steps_per_epoch + step + 1,
                        total=total_steps,
                        eta_s=eta,
                        metrics={"epoch": epoch + 1, "loss": float(np.mean(losses[-20:])), **last_metrics},
                    )
                )
        train_seconds += step_time
        if cancelled:
            break
        try:
            metrics = validate_epoch(
                net, config.model, train_images, train_records, val_images, val_records, ref_idx, device,
                config.split_sides, cancel,
            )
        except CancelledError:  # during validation: this epoch does not count
            cancelled = True
            break
        score = metrics["score"]
        if math.isnan(score):  # no validation data: the latest epoch is the best
            score = float(epoch)
        if score > best_metric + 1e-6:
            best_metric, best_epoch, bad_epochs = score, epoch + 1, 0
            best_state = copy.deepcopy(net.state_dict())
        elif score >= best_metric - 1e-6:
            best_epoch, best_state = epoch + 1, copy.deepcopy(net.state_dict())  # a tie: keep the later one
            bad_epochs += 1
        else:
            bad_epochs += 1
        entry = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)) if losses else math.nan,
            "val_auc": metrics["auc"],
            "val_catch_rate": metrics["catch_rate"],
            "val_denom_accuracy": metrics["denom_accuracy"],
            "val_score": metrics["score"],
            "seconds": time.monotonic() - epoch_start,
            "lr": float(optimizer.param_groups[0]["lr"]),
            "images_per_second": len(losses) * sampler.batch_size / max(step_time, 1e-9),
        }
        history.append(entry)
        last_metrics = {"val_auc": metrics["auc"]}
        epoch += 1
        stopped_early = bad_epochs >= config.patience and epoch < config.epochs
        checkpoint(epoch, stopped_early)
        report(
            progress,
            "train",
            f"Epoch {epoch}/{config.epochs}: loss {entry['train_loss']:.4f}, val AUC {metrics['auc']:.4f}",
            done=epoch * steps_per_epoch,
            total=total_steps,
            eta_s=(time.monotonic() - loop_start) / max(1, steps_done) * max(0, steps_left - steps_done),
            metrics={"epoch": epoch, "loss": entry["train_loss"], "val_auc": metrics["auc"], "val_score": metrics["score"]},
        )
        if stopped_early:
            log.info("Early stop after epoch %d (best %d)", epoch, best_epoch)
            break

    if cancelled and not history:
        raise CancelledError("Training was cancelled before the first epoch finished; no model was produced.")
    net.load_state_dict(best_state)
    net = net.cpu().eval()
    return TrainResult(
        net=net,
        model_config=config.model,
        train_config=config,
        history=history,
        best_epoch=best_epoch,
        stopped_early=stopped_early or finished,
        cancelled=cancelled,
        train_records=train_records,
        val_records=val_records,
        seconds=time.monotonic() - started,
        images_per_second=train_images_seen / train_seconds if train_seconds > 0 else 0.0,
        failures=failures,
        train_images=train_images,
        val_images=val_images,
    )
