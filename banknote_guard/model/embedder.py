"""Turn notes into embeddings with a trained :class:`EmbeddingNet` (inference only)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.model.config import ModelConfig
from banknote_guard.model.network import EmbeddingNet
from banknote_guard.model.preprocess import load_and_prepare, to_tensor
from banknote_guard.progress import CancelToken, ProgressCallback, check_cancel, report


def default_device() -> str:
    """"cuda" when a GPU is usable, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class Embedder:
    """Batch inference: rectified notes or image files in, float32 embeddings out.

    Args:
        net: the embedding network (it is put in eval mode and moved to ``device``).
        config: its model configuration (input size, normalisation).
        batch_size: images per forward pass.
        device: "cpu", "cuda", ... (default: a GPU when present).
    """

    def __init__(self, net: EmbeddingNet, config: ModelConfig, *, batch_size: int = 64, device: str | None = None) -> None:
        self.config = config
        self.batch_size = max(1, int(batch_size))
        self.device = torch.device(device or default_device())
        self.net = net.to(self.device).eval()

    @property
    def dim(self) -> int:
        return int(self.config.embedding_dim)

    def embed(
        self,
        images: Sequence[np.ndarray] | np.ndarray,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """Embeddings (N, D) float32 of notes prepared by :func:`~banknote_guard.model.preprocess.prepare_image`.

        Images of another size are resized to the input size.
        """
        n = len(images)
        out = np.zeros((n, self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                check_cancel(cancel)
                x = to_tensor(images[start : start + self.batch_size], self.config).to(self.device)
                if self.device.type == "cuda":
                    with torch.autocast("cuda", dtype=torch.float16):
                        z = self.net(x)
                else:
                    z = self.net(x)
                out[start : start + len(x)] = z.float().cpu().numpy()
                report(progress, "embed", done=min(n, start + self.batch_size), total=n)
        return out

    def embed_paths(
        self,
        paths: Iterable[str | Path],
        *,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[np.ndarray, list[tuple[Path, str]]]:
        """Read, rectify and embed image files.

        Returns:
            ``(embeddings, failures)``: embeddings (M, D) of the readable files in input order, and
            ``(path, message)`` for each file that could not be used (it does not stop the others).
        """
        paths = [Path(p) for p in paths]
        images, failures = prepare_paths(paths, self.config, workers=workers, progress=progress, cancel=cancel)
        ok = [im for im in images if im is not None]
        emb = self.embed(ok, cancel=cancel) if ok else np.zeros((0, self.dim), dtype=np.float32)
        return emb, failures


def prepare_paths(
    paths: Sequence[Path],
    config: ModelConfig,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    stage: str = "prepare",
) -> tuple[list[np.ndarray | None], list[tuple[Path, str]]]:
    """Load and prepare many files with a thread pool (OpenCV and PIL release the GIL).

    Returns a list aligned with ``paths`` (None where the file failed) and the ``(path, message)`` failures.
    """
    workers = workers or min(8, os.cpu_count() or 1)
    results: list[np.ndarray | None] = [None] * len(paths)
    failures: list[tuple[Path, str]] = []

    def work(i: int) -> tuple[int, np.ndarray | None, str | None]:
        if cancel is not None and cancel.cancelled:
            return i, None, "cancelled"
        try:
            return i, load_and_prepare(paths[i], config)[0], None
        except BanknoteGuardError as exc:
            return i, None, str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            return i, None, f"Cannot use image {str(paths[i])!r}: {exc}"

    total = len(paths)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, (i, image, error) in enumerate(pool.map(work, range(total)), start=1):
            if error is not None:
                failures.append((paths[i], error))
            results[i] = image
            if done % 16 == 0 or done == total:
                report(progress, stage, f"Reading images ({done}/{total})", done=done, total=total)
    check_cancel(cancel)
    return results, failures
