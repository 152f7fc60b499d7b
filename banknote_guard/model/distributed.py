"""Distributed training with torch's own engine: process groups, DistributedDataParallel, gathers.

``torchrun --nproc-per-node N -m banknote_guard train DATA --out model.bgm`` starts N processes with
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in their environment.
:func:`distributed_session` reads them and joins the process group: NCCL when the processes train on
CUDA GPUs (process ``LOCAL_RANK`` takes GPU ``cuda:<LOCAL_RANK>``), gloo on CPUs. Without those
variables (or with a world of one) it gives :data:`SINGLE`-style context and starts nothing, so a
plain run is exactly the single-process trainer.

:class:`DistContext` is what the trainer needs of the group: who is rank 0 (the only process that
writes checkpoints and the model), a cancel flag all processes agree on, gathering the rows that each
process computed for its share of the items, broadcasting a Python object (a checkpoint, metrics, or
an error to raise everywhere), and wrapping the network in ``DistributedDataParallel``. Objects and
images travel over a gloo group on the CPU also when the gradients go through NCCL.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, TypeVar

import numpy as np
import torch
from torch import nn

from banknote_guard.errors import BanknoteGuardError, ParameterError
from banknote_guard.model.devices import describe_device, resolve_device

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a process waits for the others at a collective before giving up (seconds).
DEFAULT_TIMEOUT_S = 1800.0
#: Bytes per all-gather when prepared images are exchanged (bounds the temporary memory).
GATHER_CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class LaunchInfo:
    """Where this process stands in a torchrun launch (read from its environment)."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int


def launch_info(environ: dict[str, str] | None = None) -> LaunchInfo | None:
    """This process's place in a torchrun launch, or None when it was not started by one.

    Raises ParameterError when the variables are there but do not make sense.
    """
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env and "RANK" not in env:
        return None
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local_rank = int(env.get("LOCAL_RANK", str(rank)))
        local_world = int(env.get("LOCAL_WORLD_SIZE", str(world)))
    except ValueError:
        raise ParameterError(
            "The distributed-training variables RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers; start the "
            "processes with torchrun (e.g. torchrun --nproc-per-node 2 -m banknote_guard train ...)."
        ) from None
    if world < 1 or not 0 <= rank < world or not 0 <= local_rank < max(1, local_world):
        raise ParameterError(
            f"Inconsistent distributed-training variables (RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local_rank}, "
            f"LOCAL_WORLD_SIZE={local_world}); start the processes with torchrun."
        )
    return LaunchInfo(rank, world, local_rank, local_world)


@dataclass
class DistContext:
    """One process's view of a (possibly one-process) training run.

    Attributes:
        device: the device this process trains on.
        rank, world_size: this process's index and the number of processes.
        local_rank, local_world_size: the same on this machine.
        backend: "nccl", "gloo", or None for a single process (no process group).
        cpu_group: the group used for CPU tensors and Python objects (gloo).
    """

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    backend: str | None = None
    cpu_group: Any = None

    @property
    def distributed(self) -> bool:
        """More than one process takes part."""
        return self.backend is not None and self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes checkpoints, the model and progress."""
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's share of ``items``: every ``world_size``-th item from index ``rank``."""
        return list(items[self.rank :: self.world_size])

    # --- collectives (no-ops in one process) --------------------------------------------------------

    def any_true(self, flag: bool) -> bool:
        """True on every process when ``flag`` is True on any of them (a cancel all processes obey)."""
        if not self.distributed:
            return bool(flag)
        import torch.distributed as dist

        t = torch.tensor([1 if flag else 0], dtype=torch.int32)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.cpu_group)
        return bool(t.item())

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every process's ``obj``, in rank order."""
        if not self.distributed:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj, group=self.cpu_group)
        return out

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        """Rank ``src``'s ``obj`` on every process."""
        if not self.distributed:
            return obj
        import torch.distributed as dist

        box = [obj if self.rank == src else None]
        dist.broadcast_object_list(box, src=src, group=self.cpu_group)
        return box[0]

    def on_main(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0 only and give its result to every process.

        A :class:`BanknoteGuardError` raised by ``fn`` is raised again on every process (same type and
        message), so that all of them stop with the one readable error instead of waiting for rank 0.
        """
        if not self.distributed:
            return fn()
        outcome: tuple[str, Any] = ("ok", None)
        if self.is_main:
            try:
                outcome = ("ok", fn())
            except BanknoteGuardError as exc:
                outcome = ("error", _portable(exc))
        kind, value = self.broadcast_object(outcome)
        if kind == "error":
            raise value
        return value

    def gather_rows(self, shard: np.ndarray, total: int) -> np.ndarray:
        """The full array of ``total`` rows from each process's :meth:`shard` of them.

        Process ``r`` holds rows ``r, r + N, r + 2N, ...`` (in that order); the result, on every process,
        holds all rows in their original order. Large arrays travel in chunks of about
        :data:`GATHER_CHUNK_BYTES`.
        """
        if not self.distributed:
            return shard
        import torch.distributed as dist

        n = self.world_size
        counts = [len(range(r, total, n)) for r in range(n)]
        if len(shard) != counts[self.rank]:
            raise ValueError(f"rank {self.rank} holds {len(shard)} rows, expected {counts[self.rank]}")
        per_rank = counts[0]
        out = np.zeros((total, *shard.shape[1:]), dtype=shard.dtype)
        row_bytes = max(1, int(np.prod(shard.shape[1:], dtype=np.int64)) * shard.dtype.itemsize)
        chunk = max(1, GATHER_CHUNK_BYTES // (row_bytes * n))
        for start in range(0, max(per_rank, 1), chunk):
            stop = min(per_rank, start + chunk)
            if stop <= start:
                break
            local = np.zeros((stop - start, *shard.shape[1:]), dtype=shard.dtype)
            mine = shard[start:stop]
            local[: len(mine)] = mine
            parts = [torch.empty(local.shape, dtype=_torch_dtype(local.dtype)) for _ in range(n)]
            dist.all_gather(parts, torch.from_numpy(local), group=self.cpu_group)
            for r, part in enumerate(parts):
                rows = max(0, min(stop, counts[r]) - start)
                if rows:
                    out[r + n * start : r + n * (start + rows) : n] = part[:rows].numpy()
        return out

    def broadcast_buffers(self, module: nn.Module) -> None:
        """Copy rank 0's buffers (batch-norm statistics) to every process, so that all embed alike."""
        if not self.distributed:
            return
        import torch.distributed as dist

        for buf in module.buffers():
            dist.broadcast(buf, src=0)

    def wrap(self, net: nn.Module) -> nn.Module:
        """The network as the training step calls it: ``DistributedDataParallel`` when distributed.

        Each process's batch-norm layers see its own P x K batch, as in a single process; rank 0's
        running statistics are broadcast at each forward pass (DDP's ``broadcast_buffers``).
        """
        if not self.distributed:
            return net
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids, output_device=ids[0] if ids else None)

    def describe(self) -> dict[str, Any]:
        """World size, backend and every process's device (a collective when distributed)."""
        devices = self.all_gather_object(describe_device(self.device))
        return {"world_size": self.world_size, "backend": self.backend, "devices": devices}


def _portable(exc: BanknoteGuardError) -> BanknoteGuardError:
    """``exc`` if it survives pickling (to travel to the other processes), else a plain one with its message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - an error class whose constructor takes other arguments
        return BanknoteGuardError(str(exc))


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.zeros(0, dtype=dtype)).dtype


class GatheredLoss(nn.Module):
    """A metric loss over the embeddings of every process ("global" mining scope).

    Each process gathers all processes' embeddings and labels, puts its own (with their gradient) in
    its place, and computes the loss over the whole N x P x K batch; the gradient reaches its own
    embeddings only. DDP averages gradients over the N processes, so the training step multiplies this
    loss by N (:attr:`gradient_scale`) to follow the gradient of the one global loss.
    """

    def __init__(self, loss: nn.Module, ctx: DistContext) -> None:
        super().__init__()
        self.loss = loss
        self.ctx = ctx

    @property
    def gradient_scale(self) -> float:
        return float(self.ctx.world_size)

    @property
    def last_stats(self) -> dict[str, float]:
        return getattr(self.loss, "last_stats", {})

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        n, rank = self.ctx.world_size, self.ctx.rank
        z_parts = [torch.empty_like(embeddings) for _ in range(n)]
        y_parts = [torch.empty_like(labels) for _ in range(n)]
        dist.all_gather(z_parts, embeddings.detach().contiguous())
        dist.all_gather(y_parts, labels.contiguous())
        z_parts[rank] = embeddings
        return self.loss(torch.cat(z_parts), torch.cat(y_parts))


@contextlib.contextmanager
def distributed_session(
    device: str | None = "auto", *, timeout_s: float = DEFAULT_TIMEOUT_S, environ: dict[str, str] | None = None
) -> Iterator[DistContext]:
    """The :class:`DistContext` of this process; joins (and finally leaves) the process group under torchrun.

    Args:
        device: the device asked for (``auto``, ``cpu``, ``cuda``, ``mps``); under torchrun a GPU
            means ``cuda:<LOCAL_RANK>``.
        timeout_s: how long a collective waits for the other processes.
        environ: the environment to read (default ``os.environ``).

    Raises:
        DeviceUnavailableError: the device is not usable (see :func:`resolve_device`).
        ParameterError: distributed training cannot run here (no torch.distributed, MPS, bad variables).
    """
    info = launch_info(environ)
    if info is None or info.world_size == 1:
        yield DistContext(device=resolve_device(device, local_rank=None if info is None else info.local_rank))
        return
    import torch.distributed as dist

    if not dist.is_available():
        raise ParameterError("This PyTorch build has no distributed-training support (torch.distributed); "
                             "train with one process instead of torchrun.")
    dev = resolve_device(device, local_rank=info.local_rank)
    if dev.type == "mps":
        raise ParameterError("Distributed training runs on CUDA GPUs (NCCL) or on CPUs (gloo), not on Apple's MPS; "
                             "use --device cpu under torchrun, or train in one process on MPS.")
    backend = "nccl" if dev.type == "cuda" else "gloo"
    owns_group = not dist.is_initialized()
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if owns_group:
        dist.init_process_group(backend=backend, timeout=_dt.timedelta(seconds=timeout_s))
    else:
        backend = dist.get_backend()
    cpu_group = dist.new_group(backend="gloo") if backend != "gloo" else None
    ctx = DistContext(
        device=dev, rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=info.local_rank,
        local_world_size=info.local_world_size, backend=backend, cpu_group=cpu_group,
    )
    log.info("Process %d of %d joined the %s group on %s", ctx.rank, ctx.world_size, backend, dev)
    try:
        yield ctx
    finally:
        if owns_group and dist.is_initialized():
            dist.destroy_process_group()
