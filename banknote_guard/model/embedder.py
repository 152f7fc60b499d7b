"""Turn notes into embeddings (inference only): the torch network, or its ONNX export.

:class:`BaseEmbedder` is the part every engine shares (batches, progress, cancel, reading files) and
imports no torch; :class:`Embedder` runs an :class:`~banknote_guard.model.network.EmbeddingNet` with
torch (training workstations: training, calibration, export);
:class:`~banknote_guard.model.onnx_runtime.OnnxEmbedder` runs the model file's ONNX export with
onnxruntime (every verification, and stations without torch).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.model.config import ModelConfig
from banknote_guard.model.preprocess import load_and_prepare
from banknote_guard.progress import CancelToken, ProgressCallback, check_cancel, report

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.model.network import EmbeddingNet


def default_device() -> str:
    """The process's inference device: the one ``--device`` chose (:func:`~banknote_guard.model.devices.use_device`),
    else "cuda" when a GPU is usable, else "cpu"."""
    from banknote_guard.model.devices import preferred_device

    return str(preferred_device())


class BaseEmbedder:
    """Batch inference: rectified notes or image files in, float32 embeddings out.

    Subclasses implement :meth:`_embed_batch` (one batch of prepared uint8 notes to embeddings).

    Args:
        config: the network's model configuration (input size, normalisation).
        batch_size: images per forward pass.
    """

    #: Which engine runs the network ("torch" or "onnxruntime"), for descriptions and benchmarks.
    engine = ""

    def __init__(self, config: ModelConfig, *, batch_size: int = 64) -> None:
        self.config = config
        self.batch_size = max(1, int(batch_size))

    @property
    def dim(self) -> int:
        return int(self.config.embedding_dim)

    def _embed_batch(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        raise NotImplementedError

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
        for start in range(0, n, self.batch_size):
            check_cancel(cancel)
            batch = images[start : start + self.batch_size]
            out[start : start + len(batch)] = self._embed_batch(batch)
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


class Embedder(BaseEmbedder):
    """The torch engine: an :class:`EmbeddingNet` in eval mode (needs torch).

    Args:
        net: the embedding network (it is put in eval mode and moved to ``device``).
        config: its model configuration (input size, normalisation).
        batch_size: images per forward pass.
        device: "cpu", "cuda", ... (default: a GPU when present).
    """

    engine = "torch"

    def __init__(self, net: "EmbeddingNet", config: ModelConfig, *, batch_size: int = 64, device: str | None = None) -> None:
        import torch

        super().__init__(config, batch_size=batch_size)
        self.device = torch.device(device or default_device())
        self.net = net.to(self.device).eval()

    def _embed_batch(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        import torch

        from banknote_guard.model.preprocess import to_tensor

        with torch.inference_mode():
            x = to_tensor(images, self.config).to(self.device)
            if self.device.type == "cuda":
                with torch.autocast("cuda", dtype=torch.float16):
                    z = self.net(x)
            else:
                z = self.net(x)
            return z.float().cpu().numpy()


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
