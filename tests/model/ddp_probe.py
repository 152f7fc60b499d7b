"""Run by tests/model/test_distributed.py under torchrun (2 gloo processes on the CPU): exercise every
collective the trainer uses and a cancelled training, and write what each process saw to
``OUT/rank<N>.json``.

Usage: python -m torch.distributed.run --nproc-per-node 2 ... tests/model/ddp_probe.py OUT DATASET CONFIG_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from banknote_guard.data.dataset import discover_dataset
from banknote_guard.errors import ParameterError
from banknote_guard.model import distributed as dist_module
from banknote_guard.model.config import TrainConfig
from banknote_guard.model.distributed import GatheredLoss, distributed_session
from banknote_guard.model.losses import QuadrupletLoss
from banknote_guard.model.trainer import train
from banknote_guard.progress import CancelToken, Progress


def collectives(ctx: dist_module.DistContext) -> dict[str, object]:
    out: dict[str, object] = {"rank": ctx.rank, "world_size": ctx.world_size, "backend": ctx.backend}
    rows = np.arange(7 * 3, dtype=np.float32).reshape(7, 3)  # 7 rows: 4 on rank 0, 3 on rank 1
    out["gather"] = bool(np.array_equal(ctx.gather_rows(rows[ctx.rank :: ctx.world_size], 7), rows))
    saved = dist_module.GATHER_CHUNK_BYTES
    dist_module.GATHER_CHUNK_BYTES = 1  # one row per exchange
    out["gather_chunked"] = bool(np.array_equal(ctx.gather_rows(rows[ctx.rank :: ctx.world_size], 7), rows))
    dist_module.GATHER_CHUNK_BYTES = saved
    out["any_true"] = [ctx.any_true(ctx.rank == 1), ctx.any_true(False)]
    out["broadcast"] = ctx.broadcast_object({"from": ctx.rank})
    out["gathered_objects"] = ctx.all_gather_object(ctx.rank * 10)

    def fails() -> None:
        raise ParameterError("the checkpoint is from another dataset")

    try:
        ctx.on_main(fails)
        out["on_main_error"] = None
    except ParameterError as exc:
        out["on_main_error"] = str(exc)

    # The "global" mining scope: each process's gradient is its slice of the one global loss's gradient.
    generator = torch.Generator().manual_seed(0)
    z_all = torch.nn.functional.normalize(torch.randn(16, 8, generator=generator), dim=1)
    y_all = torch.arange(16) // 2 % 5
    loss_fn = QuadrupletLoss(mining="all")
    mine = slice(8 * ctx.rank, 8 * ctx.rank + 8)
    z = z_all[mine].clone().requires_grad_()
    local = GatheredLoss(loss_fn, ctx)(z, y_all[mine])
    local.backward()
    ref = z_all.clone().requires_grad_()
    total = loss_fn(ref, y_all)
    total.backward()
    assert ref.grad is not None and z.grad is not None
    out["global_loss_equal"] = bool(torch.allclose(local, total))
    out["global_grad_equal"] = bool(torch.allclose(z.grad, ref.grad[mine], atol=1e-7))
    return out


def cancelled_training(ctx: dist_module.DistContext, out_dir: Path, dataset_root: str, config: TrainConfig) -> dict[str, object]:
    """Rank 1 alone is cancelled in the second epoch: both processes must stop after the same step."""
    cancel = CancelToken()
    steps: list[int] = []

    def progress(p: Progress) -> None:
        if p.stage == "train" and p.message.startswith("Epoch") and ":" not in p.message:
            steps.append(p.done)
            if ctx.rank == 1 and p.metrics.get("epoch") == 2:
                cancel.cancel()

    result = train(discover_dataset(dataset_root), config, checkpoint_path=out_dir / "cancel.ckpt",
                   progress=progress, cancel=cancel, dist=ctx)
    return {"cancelled": result.cancelled, "epochs": len(result.history), "last_step": steps[-1],
            "world_size": result.hardware["world_size"], "devices": result.hardware["devices"]}


def main() -> None:
    out_dir, dataset_root, config_json = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    config = TrainConfig.from_dict(json.loads(config_json))
    with distributed_session("cpu") as ctx:
        report = collectives(ctx)
        report["training"] = cancelled_training(ctx, out_dir, dataset_root, config)
    (out_dir / f"rank{report['rank']}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
