"""Putting verifications into the history: one batch at a time, each note the moment it is judged.

:class:`HistoryRecorder` turns :class:`~banknote_guard.verify.result.VerificationResult` objects into
:class:`~banknote_guard.history.records.NoteRecord` objects (batch, station, operator, source, model
identity, the picture's SHA-256, a stored copy of the picture -- the file itself when it is a small
upright JPEG, else a JPEG at most 1600 pixels on its longest side -- and a JPEG of the straightened note) and
adds each one to the history in its own transaction, so a program killed mid-batch loses at most the
note it was writing. A note that cannot be written is counted (:attr:`HistoryRecorder.failures`)
and the batch goes on: the front end says so.

:class:`RecordingVerifier` is a :class:`~banknote_guard.verify.verifier.Verifier` that records every
note as soon as its verdict exists (the command line's ``verify``); the desktop application and the
capture page call :meth:`HistoryRecorder.record` where their results arrive.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import logging
import os
import re
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.history.errors import HistoryError
from banknote_guard.history.location import default_operator, default_station
from banknote_guard.history.records import SOURCES, NoteRecord, Source
from banknote_guard.verify.verifier import Verifier

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.history.store import History
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.result import VerificationResult

log = logging.getLogger(__name__)

#: The longest side of the stored copy of a picture (pixels); larger pictures are scaled down.
STORED_IMAGE_MAX_SIDE = 1600
#: JPEG quality of the stored copies.
JPEG_QUALITY = 90
#: Files larger than this are hashed but not decoded again for the stored copy (bytes).
MAX_COPY_SOURCE_BYTES = 256 * 1024 * 1024
#: A JPEG up to this size (and :data:`STORED_IMAGE_MAX_SIDE`) is stored as it is, byte for byte.
MAX_ORIGINAL_COPY_BYTES = 1536 * 1024


def new_batch_id(station: str | None = None, when: _dt.datetime | None = None) -> str:
    """A batch id people can read and sort: ``20260601-143005-desk-3-7f2a`` (UTC time, station, random)."""
    when = when or _dt.datetime.now(_dt.timezone.utc)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", station or default_station()).strip("-").lower()[:24] or "desk"
    return f"{when.astimezone(_dt.timezone.utc):%Y%m%d-%H%M%S}-{slug}-{secrets.token_hex(2)}"


def jpeg_bytes(rgb: np.ndarray, max_side: int | None = STORED_IMAGE_MAX_SIDE) -> bytes:
    """An (H, W, 3) or (H, W) uint8 picture as JPEG bytes, its longest side at most ``max_side``."""
    from PIL import Image

    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    image = Image.fromarray(np.ascontiguousarray(arr))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return buf.getvalue()


def pixels_sha256(rgb: np.ndarray) -> str:
    """SHA-256 of a picture held in memory (a camera frame): its shape, then its pixel bytes."""
    arr = np.ascontiguousarray(np.asarray(rgb))
    h = hashlib.sha256(f"{arr.shape}|{arr.dtype}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_identity(model: Any) -> tuple[str | None, str | None]:
    """(short id, full SHA-256) of a model bundle, or of the dict its ``describe()`` gives."""
    if model is None:
        return None, None
    if isinstance(model, dict):
        return model.get("id"), model.get("sha256")
    ident, digest = getattr(model, "identity", None), getattr(model, "sha256", None)
    if ident is None and digest is None and hasattr(model, "describe"):
        try:
            info = model.describe()
            ident, digest = info.get("id") or info.get("name"), info.get("sha256")
        except Exception:  # noqa: BLE001 - an identity is recorded when there is one
            pass
    return (str(ident) if ident is not None else None), (str(digest) if digest is not None else None)


class HistoryRecorder:
    """Records one batch of notes into a history.

    Args:
        history: where the records go.
        station, operator: recorded with every note (default: this computer's name, the login name).
        model: the model that judged the notes (a ModelBundle, or its ``describe()`` dict).
        source: where the pictures come from ("file", "camera", "scanner", "watched-folder", "clipboard").
        batch: the batch id (default: a new one, see :func:`new_batch_id`).

    Attributes:
        recorded: records written so far.
        failures: one readable line per note that could not be written (the batch went on).
    """

    def __init__(
        self,
        history: "History",
        *,
        station: str | None = None,
        operator: str | None = None,
        model: "ModelBundle | dict[str, Any] | None" = None,
        source: Source = "file",
        batch: str | None = None,
    ) -> None:
        if source not in SOURCES:
            raise HistoryError(f"Unknown source {source!r}; expected one of {', '.join(SOURCES)}.")
        self.history = history
        self.station = (station or "").strip() or default_station()
        self.operator = (operator or "").strip() or default_operator()
        self.model_id, self.model_sha256 = model_identity(model)
        self.source: Source = source
        self.batch = (batch or "").strip() or new_batch_id(self.station)
        self.recorded = 0
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def make_record(
        self, result: "VerificationResult", *, rgb: np.ndarray | None = None, source: Source | None = None
    ) -> NoteRecord:
        """The record of ``result`` (picture hashed and copied; nothing written yet)."""
        image = image_sha = None
        if rgb is not None:
            image_sha = pixels_sha256(rgb)
            image = self._safe_jpeg(rgb, result.path)
        else:
            image_sha, image = self._file_copy(result.path)
        note = self._safe_jpeg(result.rectified, result.path, max_side=None) if result.rectified is not None else None
        return NoteRecord.from_result(
            result, batch=self.batch, station=self.station, operator=self.operator, source=source or self.source,
            model_id=self.model_id, model_sha256=self.model_sha256, image=image, note_image=note,
            image_sha256=image_sha,
        )

    def record(
        self, result: "VerificationResult", *, rgb: np.ndarray | None = None, source: Source | None = None
    ) -> NoteRecord | None:
        """Write one note (its own transaction). Returns the record, or None when it could not be
        written (the reason is added to :attr:`failures`; the caller's batch goes on)."""
        try:
            rec = self.make_record(result, rgb=rgb, source=source)
            self.history.add(rec)
        except BanknoteGuardError as exc:
            with self._lock:
                self.failures.append(f"{result.path}: {exc}")
            log.warning("note %s not recorded in the history: %s", result.path, exc)
            return None
        with self._lock:
            self.recorded += 1
        return rec

    def record_many(self, results: Iterable["VerificationResult"], *, source: Source | None = None) -> list[NoteRecord]:
        """Write several notes, each in its own transaction; returns those written."""
        out = []
        for r in results:
            rec = self.record(r, source=source)
            if rec is not None:
                out.append(rec)
        return out

    def failure_text(self) -> str | None:
        """One line for the operator when notes could not be recorded, else None."""
        if not self.failures:
            return None
        more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        return f"{len(self.failures)} note(s) could not be written to the history: {self.failures[0]}{more}"

    # --- pictures ---------------------------------------------------------------------------

    @staticmethod
    def _safe_jpeg(rgb: Any, name: str, max_side: int | None = STORED_IMAGE_MAX_SIDE) -> bytes | None:
        try:
            return jpeg_bytes(rgb, max_side)
        except Exception as exc:  # noqa: BLE001 - a record without a picture copy beats no record
            log.warning("no stored copy of %s: %s", name, exc)
            return None

    def _file_copy(self, path: str) -> tuple[str | None, bytes | None]:
        """(SHA-256 of the file's bytes, the stored copy of its picture), each None when not available.

        A JPEG that is already small enough (at most :data:`STORED_IMAGE_MAX_SIDE` pixels and
        :data:`MAX_ORIGINAL_COPY_BYTES`, upright) is kept byte for byte, so its copy hashes to the
        recorded SHA-256; any other picture is decoded (large JPEGs at a reduced scale) and stored as a
        bounded JPEG.
        """
        p = Path(path)
        try:
            if not p.is_file():
                return None, None
            if os.path.getsize(p) > MAX_COPY_SOURCE_BYTES:
                return file_sha256(p), None
            data = p.read_bytes()
        except OSError as exc:
            log.warning("cannot read %s for the history: %s", path, exc)
            return None, None
        return hashlib.sha256(data).hexdigest(), self._copy_of(data, path)

    def _copy_of(self, data: bytes, name: str) -> bytes | None:
        from PIL import Image, ImageOps

        try:
            with Image.open(io.BytesIO(data)) as im:
                if im.format == "JPEG":
                    upright = im.getexif().get(0x0112, 1) in (0, 1)  # EXIF orientation: none or normal
                    if upright and len(data) <= MAX_ORIGINAL_COPY_BYTES and max(im.size) <= STORED_IMAGE_MAX_SIDE:
                        return data
                    im.draft("RGB", (STORED_IMAGE_MAX_SIDE, STORED_IMAGE_MAX_SIDE))  # decode at 1/2, 1/4, ...
                rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        except Exception as exc:  # noqa: BLE001 - an unreadable picture: its hash says which file it was
            log.info("no stored copy of %s: %s", name, exc)
            return None
        return self._safe_jpeg(rgb, name)


class RecordingVerifier(Verifier):
    """A :class:`Verifier` that writes each note into the history as soon as its verdict exists.

    Scored notes are written from :meth:`score` (a batch of the network at a time, one transaction
    per note); pictures that could not be read are written when :meth:`verify_paths` returns (unless
    the batch was stopped: the files not reached are not notes that were checked).

    Args:
        bundle: the model.
        recorder: where the notes go (its ``failures`` collect what could not be written).
        **kwargs: as :class:`Verifier`.
    """

    def __init__(self, bundle: "ModelBundle", recorder: HistoryRecorder, **kwargs: Any) -> None:
        super().__init__(bundle, **kwargs)
        self.recorder = recorder
        self._written: set[int] = set()
        self._frame = False

    def score(
        self,
        embeddings: np.ndarray,
        names: Sequence[str],
        note_found: Sequence[bool] | None = None,
        rectified: Sequence[np.ndarray | None] | None = None,
        **kwargs: Any,
    ) -> list["VerificationResult"]:
        results = super().score(embeddings, names, note_found, rectified, **kwargs)
        if not self._frame:
            for r in results:
                if self.recorder.record(r) is not None:
                    self._written.add(id(r))
        return results

    def verify_image(self, rgb: np.ndarray, name: str = "image") -> "VerificationResult":
        self._frame = True
        try:
            result = super().verify_image(rgb, name)
        finally:
            self._frame = False
        self.recorder.record(result, rgb=rgb, source="clipboard" if self.recorder.source == "file" else None)
        return result

    def verify_paths(self, paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> list["VerificationResult"]:
        self._written.clear()
        results = super().verify_paths(paths, **kwargs)
        cancel = kwargs.get("cancel")
        stopped = cancel is not None and cancel.cancelled
        for r in results:
            if not r.ok and id(r) not in self._written and not stopped:
                self.recorder.record(r)
        self._written.clear()
        return results
