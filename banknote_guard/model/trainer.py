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

Hardware (:class:`~banknote_guard.model.devices.TrainRuntime`, ``runtime=``): the device (a CUDA GPU
when present by default), mixed precision on CUDA (bf16, or fp16 with loss scaling), and optionally
data-loader worker processes that augment batches ahead of the GPU into pinned memory. Without workers
the batches are augmented in the training process from one random stream per epoch: that is the
single-process reference path, and its results for a seed do not depend on the device settings
otherwise. With workers (or several processes), each batch has its own random stream, seeded by
(seed, epoch, batch), so the augmentation is the same for any number of workers or processes.

Distributed training (``dist=``, a :class:`~banknote_guard.model.distributed.DistContext`; under
``torchrun`` the workflow makes one): the network is wrapped in ``DistributedDataParallel``, the
distributed P x K sampler gives each process its share of the single-process epoch's batches, the
images are read and rectified once across the processes (each reads its share, then all exchange
them), validation embeds each process's share and rank 0 computes the metrics, and only rank 0 writes
checkpoints. An epoch shows the same batches whatever the number of processes, so a checkpoint resumes
under another world size (the learning-rate schedule is re-placed on the new number of steps).

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
from typing import Any, Iterator

import numpy as np
import torch

from banknote_guard.data.records import Dataset, ImageRecord
from banknote_guard.errors import CancelledError, ModelFileError, ParameterError, parameter_error
from banknote_guard.fileio import atomic_path
from banknote_guard.model.augment import augment_batch, augment_two_views
from banknote_guard.model.config import ModelConfig, TrainConfig
from banknote_guard.model.devices import TrainRuntime, default_loader_workers, resolve_precision
from banknote_guard.model.distributed import DistContext, GatheredLoss
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
#: Loader workers keep this many batches each in flight ahead of the training step.
PREFETCH_BATCHES = 2
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
        hardware: how the run was computed: ``world_size``, ``backend`` (None in one process),
            ``devices`` (one line per process), ``precision``, ``loader_workers``, ``mining_scope``, and
            ``sessions``: the same for each call that trained some of the epochs (``from_epoch`` on;
            a resumed run lists the interrupted one first).
        rank: this process's rank (0 in one process); only rank 0 writes checkpoints and the model.
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
    hardware: dict[str, Any] = field(default_factory=dict)
    rank: int = 0


def default_threads(processes: int = 1) -> int:
    """CPU threads for torch: the cores this process may use, shared among ``processes`` on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, processes))


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
    dist: DistContext | None = None,
) -> dict[str, float]:
    """Validation metrics (see :func:`~banknote_guard.model.validation.verification_metrics`).

    Distributed (``dist``): each process embeds its share of the notes, the embeddings are gathered,
    rank 0 computes the metrics and every process gets them (``cancel`` is not checked then: all
    processes must take part in every gather).
    """
    if not val_records or not ref_idx:
        return {"auc": math.nan, "catch_rate": math.nan, "denom_accuracy": math.nan, "score": math.nan}
    if dist is not None and dist.distributed:
        ref = dist.gather_rows(_embed_array(net, train_images[dist.shard(ref_idx)], config, device), len(ref_idx))
        val = dist.gather_rows(_embed_array(net, val_images[dist.rank :: dist.world_size], config, device), len(val_images))
    else:
        ref = _embed_array(net, train_images[ref_idx], config, device, cancel=cancel)
        val = _embed_array(net, val_images, config, device, cancel=cancel)

    def compute() -> dict[str, float]:
        return verification_metrics(
            ref,
            [train_records[i].denom_id for i in ref_idx],
            val,
            [r.denom_id for r in val_records],
            [r.is_genuine for r in val_records],
            distance=config.distance,
            ref_groups=[training_key(train_records[i], split_sides) for i in ref_idx],
        )

    return dist.on_main(compute) if dist is not None else compute()  # rank 0 computes when distributed


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
    runtime: TrainRuntime | None = None,
    dist: DistContext | None = None,
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
            or trains again does not decode and rectify them a second time (not used when distributed).
        runtime: device, precision, loader workers, mining scope (default :class:`TrainRuntime()`:
            a CUDA GPU when present, else the CPU).
        dist: this process's place in a distributed run (default: one process on ``runtime.device``).
            Every process calls ``train`` with the same arguments; only rank 0 reports progress and
            writes the checkpoint.

    Returns:
        A :class:`TrainResult` (``cancelled=True`` after a cancel once an epoch has finished).

    Raises:
        CancelledError: cancelled before the first epoch finished.
        ParameterError: unusable settings, too few classes, or a mismatching checkpoint.
        DeviceUnavailableError: the device asked for is not usable here.
    """
    from banknote_guard.model.devices import resolve_device

    started = time.monotonic()
    validate_train_config(config)
    runtime = runtime or TrainRuntime()
    runtime.check()
    dist = dist or DistContext(device=resolve_device(runtime.device))
    resolve_precision(runtime.precision, dist.device)  # an impossible precision fails before images are read
    checkpoint_path = Path(checkpoint_path)
    if train_records is None or val_records is None:
        train_records, val_records = split_records(list(dataset.records), config.val_fraction, config.seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.num_threads or default_threads(dist.local_world_size))
    try:
        return _train(
            config, checkpoint_path, resume, list(train_records), list(val_records), progress, cancel, started,
            image_cache, runtime, dist,
        )
    finally:
        torch.set_num_threads(previous_threads)


def _prepare(
    records: list[ImageRecord],
    config: TrainConfig,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    cache: dict[tuple[str, int, int], np.ndarray] | None,
    dist: DistContext | None = None,
) -> tuple[list[ImageRecord], np.ndarray, list[tuple[Path, str]]]:
    if dist is not None and dist.distributed:
        return _prepare_shared(records, config, progress, dist)
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


def _prepare_shared(
    records: list[ImageRecord], config: TrainConfig, progress: ProgressCallback | None, dist: DistContext
) -> tuple[list[ImageRecord], np.ndarray, list[tuple[Path, str]]]:
    """:func:`_prepare` across processes: each reads and rectifies its share, then all exchange them."""
    h, w = prepared_size(config.model)
    mine = dist.shard(records)
    loaded, failures = prepare_paths([r.path for r in mine], config.model, progress=progress)
    shard = np.zeros((len(mine), h, w, 3), np.uint8)
    ok = np.zeros((len(mine), 1), np.uint8)
    for i, image in enumerate(loaded):
        if image is not None:
            shard[i], ok[i] = image, 1
    images = dist.gather_rows(shard, len(records))
    readable = dist.gather_rows(ok, len(records))[:, 0].astype(bool)
    order = {str(r.path): i for i, r in enumerate(records)}
    failures = sorted((f for part in dist.all_gather_object(failures) for f in part), key=lambda f: order.get(str(f[0]), 0))
    for path, message in failures:
        log.warning("Skipping %s: %s", path, message)
    return [r for r, keep in zip(records, readable) if keep], np.ascontiguousarray(images[readable]), failures


class _BatchMaker:
    """Turns a batch's indices into the network's inputs on the CPU, augmentation included.

    The training process calls :meth:`make` (one random stream per epoch, or one per batch); loader
    worker processes call ``maker[(epoch, j, indices)]``, which seeds batch ``j`` of the epoch's global
    sequence on its own, so the result does not depend on which worker or process makes it.
    """

    def __init__(self, images: np.ndarray, labels: torch.Tensor, config: TrainConfig) -> None:
        self.images = images
        self.labels = labels
        self.config = config

    def make(
        self, batch: list[int], generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """``(x, g, y)``: normalised notes, their separately augmented global view (texture branch
        only, else None) and their class ids."""
        config = self.config
        images = self.images[batch]
        g: torch.Tensor | None = None
        if config.augment and config.model.detail_patches > 0:
            full, g = augment_two_views(images, generator, (config.model.image_height, config.model.image_width))
            x = normalize_tensor(full, config.model.backbone)
            g = normalize_tensor(g, config.model.backbone)
        elif config.augment:
            x = normalize_tensor(augment_batch(images, generator), config.model.backbone)
        else:
            x = to_tensor(images, config.model)
        return x, g, self.labels[batch]

    def __getitem__(self, item: tuple[int, int, list[int]]) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        epoch, j, batch = item
        return self.make(batch, _batch_generator(self.config.seed, epoch, j))


def _batch_generator(seed: int, epoch: int, j: int) -> torch.Generator:
    """The random stream of batch ``j`` (of the epoch's global sequence) when batches are seeded one by one."""
    return torch.Generator().manual_seed(_seed_for(seed, epoch, 2, j))


class _EpochPlan(torch.utils.data.Sampler):
    """The loader's items for the epoch under way: ``(epoch, j, indices)`` of this process's batches."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, list[int]]] = []

    def __iter__(self) -> Iterator[tuple[int, int, list[int]]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class _Loader:
    """Worker processes that make batches ahead of the training step, into pinned memory for a GPU.

    The workers live for the whole run (one start-up, one copy of the images on systems without fork).
    """

    def __init__(self, maker: _BatchMaker, workers: int, pin_memory: bool) -> None:
        self.plan = _EpochPlan()
        self.loader: torch.utils.data.DataLoader | None = torch.utils.data.DataLoader(
            maker,  # type: ignore[arg-type]
            batch_size=None,
            sampler=self.plan,
            num_workers=workers,
            pin_memory=pin_memory,
            persistent_workers=True,
            prefetch_factor=PREFETCH_BATCHES,
        )

    def epoch(self, items: list[tuple[int, int, list[int]]]) -> Iterator[Any]:
        assert self.loader is not None
        self.plan.items = items
        return iter(self.loader)

    def close(self) -> None:
        """Stop the workers (dropping the loader and its iterator ends them)."""
        self.loader = None


@dataclass
class _Run:
    """What a run works with, fixed once set up: the prepared data, the network and its optimiser."""

    config: TrainConfig
    checkpoint_path: Path
    device: torch.device
    train_records: list[ImageRecord]
    train_images: np.ndarray
    val_records: list[ImageRecord]
    val_images: np.ndarray
    failures: list[tuple[Path, str]]
    labels: torch.Tensor
    sampler: PKSampler
    steps_per_epoch: int
    total_steps: int
    ref_idx: list[int]
    net: EmbeddingNet
    loss_fn: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    use_amp: bool
    amp_dtype: torch.dtype
    scaler: torch.amp.GradScaler
    dist: DistContext
    #: ``net``, or its DistributedDataParallel wrapper: what the training step calls.
    model: torch.nn.Module
    maker: _BatchMaker
    warmup_steps: int
    #: The loss is multiplied by this before backward (N for the "global" mining scope, see GatheredLoss).
    loss_scale: float = 1.0
    loader: _Loader | None = None
    hardware: dict[str, Any] = field(default_factory=dict)

    @property
    def train_paths(self) -> list[str]:
        return [str(r.path) for r in self.train_records]

    def close(self) -> None:
        if self.loader is not None:
            self.loader.close()
            self.loader = None


@dataclass
class _LoopState:
    """What changes while the run goes on (and what a checkpoint keeps of it)."""

    best_state: dict[str, torch.Tensor]
    history: list[dict[str, float]] = field(default_factory=list)
    best_metric: float = -math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    #: Epochs finished so far (the 0-based index of the epoch under way).
    epoch: int = 0
    #: The resumed checkpoint's run had already stopped early.
    finished: bool = False
    cancelled: bool = False
    stopped_early: bool = False
    train_seconds: float = 0.0
    train_images_seen: int = 0
    steps_left: int = 0
    steps_done: int = 0
    loop_start: float = 0.0
    last_metrics: dict[str, float] = field(default_factory=dict)
    #: The hardware of each call that trained epochs of this run (see TrainResult.hardware).
    sessions: list[dict[str, Any]] = field(default_factory=list)

    def eta(self) -> float:
        """Seconds left at the pace of this call so far."""
        elapsed = time.monotonic() - self.loop_start
        return elapsed / max(1, self.steps_done) * max(0, self.steps_left - self.steps_done)


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
    runtime: TrainRuntime,
    dist: DistContext,
) -> TrainResult:
    run = _set_up(config, checkpoint_path, train_records, val_records, progress, cancel, image_cache, runtime, dist)
    try:
        st = _start_state(run, resume)
        while st.epoch < config.epochs and not st.finished:
            epoch_start = time.monotonic()
            losses, step_time = _train_epoch(run, st, progress, cancel)
            st.train_seconds += step_time
            if st.cancelled:
                break
            try:
                metrics = _validate(run, cancel)
            except CancelledError:  # during validation: this epoch does not count
                st.cancelled = True
                break
            _track_best(run, st, metrics["score"])
            entry = _history_entry(run, st, metrics, losses, step_time, epoch_start)
            if _finish_epoch(run, st, entry, metrics, progress):
                break
        return _wrap_up(run, st, started)
    finally:
        run.close()


def _set_up(
    config: TrainConfig,
    checkpoint_path: Path,
    train_records: list[ImageRecord],
    val_records: list[ImageRecord],
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    image_cache: dict[tuple[str, int, int], np.ndarray] | None,
    runtime: TrainRuntime,
    dist: DistContext,
) -> _Run:
    """Read the images, build the batches, the network, its loss, optimiser and learning-rate schedule."""
    device = dist.device
    report(progress, "prepare", "Reading and rectifying images", done=0, total=len(train_records) + len(val_records))
    train_records, train_images, failures = _prepare(train_records, config, progress, cancel, image_cache, dist)
    val_records, val_images, val_failures = _prepare(val_records, config, progress, cancel, image_cache, dist)
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
        batches_per_epoch=config.steps_per_epoch or None, rank=dist.rank, world_size=dist.world_size,
    )
    steps_per_epoch = len(sampler)
    total_steps = steps_per_epoch * config.epochs
    ref_idx = _reference_indices(train_records, config.seed)

    torch.manual_seed(_seed_for(config.seed, 0))
    net = EmbeddingNet(config.model, pretrained=config.pretrained).to(device)
    loss_fn: torch.nn.Module = create_loss(config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup = min(steps_per_epoch, max(1, total_steps // 10))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total_steps, warmup))
    autocast = resolve_precision(runtime.precision, device)
    scaler = torch.amp.GradScaler("cuda", enabled=autocast.scale_loss)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    loss_scale = 1.0
    if dist.distributed and runtime.mining_scope == "global":
        loss_fn = GatheredLoss(loss_fn, dist)
        loss_scale = loss_fn.gradient_scale
    workers = runtime.loader_workers
    if workers is None:
        workers = default_loader_workers(device, dist.local_world_size)
    pin = bool(runtime.pin_memory if runtime.pin_memory is not None else True) and device.type == "cuda"
    maker = _BatchMaker(train_images, labels, config)
    hardware = {
        **dist.describe(),
        "precision": autocast.name,
        "loader_workers": workers,
        "pin_memory": pin,
        "mining_scope": runtime.mining_scope if dist.distributed else "rank",
    }
    return _Run(
        config, checkpoint_path, device, train_records, train_images, val_records, val_images, failures, labels,
        sampler, steps_per_epoch, total_steps, ref_idx, net, loss_fn, optimizer, scheduler, autocast.enabled,
        autocast.dtype or torch.float16, scaler, dist, dist.wrap(net), maker, warmup, loss_scale,
        _Loader(maker, workers, pin) if workers > 0 else None, hardware,
    )


def _start_state(run: _Run, resume: bool) -> _LoopState:
    """The loop's state at the start: fresh, or read from the checkpoint when resuming."""
    st = _LoopState(best_state=copy.deepcopy(run.net.state_dict()))
    if resume:
        state = run.dist.on_main(lambda: _read_resume_state(run))
        if state is not None:
            _resume(run, st, state)
    st.sessions.append({"from_epoch": st.epoch + 1, **run.hardware})
    st.steps_left = max(0, (run.config.epochs - st.epoch) * run.steps_per_epoch)
    st.loop_start = time.monotonic()
    st.last_metrics = {"val_auc": st.history[-1]["val_auc"]} if st.history else {}
    return st


def _read_resume_state(run: _Run) -> dict[str, Any] | None:
    """The checkpoint to resume from (checked against this run), or None when there is none."""
    if not run.checkpoint_path.exists():
        log.warning("No checkpoint at %s; starting a new run.", run.checkpoint_path)
        return None
    state = load_checkpoint(run.checkpoint_path)
    _check_resumable(state, run.config, run.train_paths, run.checkpoint_path)
    return state


def _resume(run: _Run, st: _LoopState, state: dict[str, Any]) -> None:
    """Load the network, optimiser, schedule and loop state of a checkpoint.

    A checkpoint written under another number of processes has another number of steps per epoch:
    the learning-rate schedule is then placed at the start of the checkpoint's next epoch on this
    run's steps (the optimiser's moments carry over unchanged).
    """
    run.net.load_state_dict(state["model_state"])
    run.optimizer.load_state_dict(state["optimizer"])
    st.best_state = state["best_state"]
    st.best_metric, st.best_epoch = float(state["best_metric"]), int(state["best_epoch"])
    st.bad_epochs, st.epoch = int(state["bad_epochs"]), int(state["epoch"])
    st.history = list(state["history"])
    st.finished = bool(state.get("stopped_early", False))
    st.sessions = [dict(x) for x in state.get("sessions", [])]
    saved_steps = int(state.get("steps_per_epoch", run.sampler.batches_per_epoch))
    if saved_steps == run.steps_per_epoch:
        run.scheduler.load_state_dict(state["scheduler"])
    else:
        _place_schedule(run, st.epoch * run.steps_per_epoch)
        log.info("The checkpoint ran %d steps per epoch (world size %s), this run %d: schedule re-placed.",
                 saved_steps, state.get("world_size", 1), run.steps_per_epoch)
    log.info("Resuming from %s after epoch %d", run.checkpoint_path, st.epoch)


def _place_schedule(run: _Run, step: int) -> None:
    """Set the learning-rate schedule (and the optimiser's rates) as after ``step`` optimiser steps."""
    lrs = [base * lr_factor(step, run.total_steps, run.warmup_steps) for base in run.scheduler.base_lrs]
    state = run.scheduler.state_dict()
    state.update({"last_epoch": step, "_step_count": step + 1, "_last_lr": lrs})
    run.scheduler.load_state_dict(state)
    for group, lr in zip(run.optimizer.param_groups, lrs):
        group["lr"] = lr


def _epoch_batches(run: _Run, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]]:
    """This process's batches of ``epoch``, made by the loader workers or here.

    One process without workers draws every batch's augmentation from one stream seeded by
    (seed, epoch): the reference path. Otherwise each batch is seeded by its place in the epoch's
    global sequence (see :class:`_BatchMaker`).
    """
    seed, n, rank = run.config.seed, run.dist.world_size, run.dist.rank
    if run.loader is not None:
        yield from run.loader.epoch([(epoch, step * n + rank, b) for step, b in enumerate(run.sampler)])
        return
    stream = None if run.dist.distributed else torch.Generator().manual_seed(_seed_for(seed, epoch, 2))
    for step, batch in enumerate(run.sampler):
        yield run.maker.make(batch, stream if stream is not None else _batch_generator(seed, epoch, step * n + rank))


def _train_epoch(
    run: _Run, st: _LoopState, progress: ProgressCallback | None, cancel: CancelToken | None
) -> tuple[list[float], float]:
    """The optimiser steps of epoch ``st.epoch``; returns their losses and seconds. Sets ``st.cancelled``.

    Distributed: every process asks before each step whether any of them was cancelled, so that all
    stop after the same step.
    """
    config = run.config
    run.sampler.set_epoch(st.epoch)
    rank_part = (run.dist.rank,) if run.dist.distributed else ()
    torch.manual_seed(_seed_for(config.seed, st.epoch, 1, *rank_part))
    batches = _epoch_batches(run, st.epoch)
    run.model.train()
    losses: list[float] = []
    step_time = 0.0
    step = 0
    while True:
        if run.dist.any_true(cancel is not None and cancel.cancelled):
            st.cancelled = True
            break
        t = time.monotonic()
        item = next(batches, None)
        if item is None:
            break
        losses.append(_optimiser_step(run, *item))
        step_time += time.monotonic() - t
        st.train_images_seen += len(item[2]) * run.dist.world_size
        st.steps_done += 1
        step += 1
        if progress is not None:
            progress(
                Progress(
                    stage="train",
                    message=f"Epoch {st.epoch + 1}/{config.epochs}",
                    done=st.epoch * run.steps_per_epoch + step,
                    total=run.total_steps,
                    eta_s=st.eta(),
                    metrics={"epoch": st.epoch + 1, "loss": float(np.mean(losses[-20:])), **st.last_metrics},
                )
            )
    batches.close()
    return losses, step_time


def _optimiser_step(run: _Run, x: torch.Tensor, g: torch.Tensor | None, y: torch.Tensor) -> float:
    """One optimiser step on a made batch (see :class:`_BatchMaker`); returns the loss."""
    device = run.device
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    if g is not None:
        g = g.to(device, non_blocking=True)
    with torch.autocast(device.type, dtype=run.amp_dtype, enabled=run.use_amp):
        z = run.model(x, g)
    loss = run.loss_fn(z.float(), y)
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss * run.loss_scale if run.loss_scale != 1.0 else loss).backward()
    run.scaler.unscale_(run.optimizer)
    torch.nn.utils.clip_grad_norm_(run.net.parameters(), 5.0)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()
    return float(loss.detach())


def _validate(run: _Run, cancel: CancelToken | None) -> dict[str, float]:
    """The epoch's validation metrics (every process gets rank 0's batch-norm statistics first)."""
    run.dist.broadcast_buffers(run.net)
    return validate_epoch(
        run.net, run.config.model, run.train_images, run.train_records, run.val_images, run.val_records,
        run.ref_idx, run.device, run.config.split_sides, None if run.dist.distributed else cancel, run.dist,
    )


def _track_best(run: _Run, st: _LoopState, score: float) -> None:
    """Keep the best epoch's weights (a tie keeps the later one) and count epochs without progress."""
    if math.isnan(score):  # no validation data: the latest epoch is the best
        score = float(st.epoch)
    if score > st.best_metric + 1e-6:
        st.best_metric, st.best_epoch, st.bad_epochs = score, st.epoch + 1, 0
        st.best_state = copy.deepcopy(run.net.state_dict())
    elif score >= st.best_metric - 1e-6:
        st.best_epoch, st.best_state = st.epoch + 1, copy.deepcopy(run.net.state_dict())
        st.bad_epochs += 1
    else:
        st.bad_epochs += 1


def _history_entry(
    run: _Run, st: _LoopState, metrics: dict[str, float], losses: list[float], step_time: float, epoch_start: float
) -> dict[str, float]:
    """The history line of the epoch under way (see :class:`TrainResult`); distributed: the loss of
    every process's steps, and the images per second of all processes together."""
    if run.dist.distributed:
        losses = [x for part in run.dist.all_gather_object(losses) for x in part]
    return {
        "epoch": st.epoch + 1,
        "train_loss": float(np.mean(losses)) if losses else math.nan,
        "val_auc": metrics["auc"],
        "val_catch_rate": metrics["catch_rate"],
        "val_denom_accuracy": metrics["denom_accuracy"],
        "val_score": metrics["score"],
        "seconds": time.monotonic() - epoch_start,
        "lr": float(run.optimizer.param_groups[0]["lr"]),
        "images_per_second": len(losses) * run.sampler.batch_size / max(step_time, 1e-9),
    }


def _finish_epoch(
    run: _Run, st: _LoopState, entry: dict[str, float], metrics: dict[str, float], progress: ProgressCallback | None
) -> bool:
    """Record the epoch, decide on early stopping, write the checkpoint (rank 0) and report; True to stop."""
    config = run.config
    st.history.append(entry)
    st.last_metrics = {"val_auc": metrics["auc"]}
    st.epoch += 1
    st.stopped_early = st.bad_epochs >= config.patience and st.epoch < config.epochs
    if run.dist.is_main:
        _write_checkpoint(run, st)
    report(
        progress,
        "train",
        f"Epoch {st.epoch}/{config.epochs}: loss {entry['train_loss']:.4f}, val AUC {metrics['auc']:.4f}",
        done=st.epoch * run.steps_per_epoch,
        total=run.total_steps,
        eta_s=st.eta(),
        metrics={"epoch": st.epoch, "loss": entry["train_loss"], "val_auc": metrics["auc"], "val_score": metrics["score"]},
    )
    if st.stopped_early:
        log.info("Early stop after epoch %d (best %d)", st.epoch, st.best_epoch)
    return st.stopped_early


def _write_checkpoint(run: _Run, st: _LoopState) -> None:
    """Save the run after ``st.epoch`` finished epochs (see :func:`load_checkpoint`)."""
    save_checkpoint(
        run.checkpoint_path,
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "epoch": st.epoch,
            "model_state": run.net.state_dict(),
            "best_state": st.best_state,
            "best_metric": st.best_metric,
            "best_epoch": st.best_epoch,
            "bad_epochs": st.bad_epochs,
            "stopped_early": st.stopped_early,
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict(),
            "history": st.history,
            "model_config": run.config.model.to_dict(),
            "train_config": run.config.to_dict(),
            "train_paths": run.train_paths,
            "val_paths": [str(r.path) for r in run.val_records],
            "torch_rng": torch.get_rng_state(),
            "world_size": run.dist.world_size,
            "steps_per_epoch": run.steps_per_epoch,
            "hardware": run.hardware,
            "sessions": st.sessions,
        },
    )


def _wrap_up(run: _Run, st: _LoopState, started: float) -> TrainResult:
    """The result of the run: the best weights, in eval mode on the CPU."""
    if st.cancelled and not st.history:
        raise CancelledError("Training was cancelled before the first epoch finished; no model was produced.")
    run.net.load_state_dict(st.best_state)
    net = run.net.cpu().eval()
    return TrainResult(
        net=net,
        model_config=run.config.model,
        train_config=run.config,
        history=st.history,
        best_epoch=st.best_epoch,
        stopped_early=st.stopped_early or st.finished,
        cancelled=st.cancelled,
        train_records=run.train_records,
        val_records=run.val_records,
        seconds=time.monotonic() - started,
        images_per_second=st.train_images_seen / st.train_seconds if st.train_seconds > 0 else 0.0,
        failures=run.failures,
        train_images=run.train_images,
        val_images=run.val_images,
        hardware={**run.hardware, "sessions": list(st.sessions)},
        rank=run.dist.rank,
    )
