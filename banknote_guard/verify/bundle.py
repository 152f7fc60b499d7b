"""The model file: one ``.bgm`` file holding everything a verification needs.

Format: a `safetensors <https://github.com/huggingface/safetensors>`_ file. Its tensors are the network
weights (``net/<name>``), the gallery arrays (``gallery/<name>``), the SVM arrays (``svm/<name>``), the
pooled calibration scores (``calibration/pooled_scores``) and, from format 3 on, the network's ONNX
graph (``onnx/graph``, bytes). Its ``__metadata__`` holds three strings: ``format`` =
``"banknote_guard-model"`` (the marker), ``schema_version`` and ``payload``, one JSON document with
everything else (model and training configuration, gallery and SVM settings, thresholds, training
summary, and the ONNX graph's description under ``onnx``).

**Network** (format 3 on). Weights with two or more dimensions (convolution kernels, the projection
matrix: nearly all of the bytes) are stored as float16 when every value fits, the small rest (batch
normalisation, biases) as float32, so a model file is half the size it was; :class:`ModelBundle` holds
them exactly as stored, as numpy arrays, and builds a torch network (float32) only when asked
(:meth:`ModelBundle.build_net`: training, export). The ONNX graph is exported from those very weights
when the model is saved (:mod:`~banknote_guard.model.onnx_export`) and holds none of them itself: it
names the ``net/`` tensors it needs (:mod:`~banknote_guard.model.onnx_runtime`). Verification runs it
with onnxruntime, so a verification station needs no torch. A model saved where the export was not
possible (no torch, or no ``onnx`` package), and every format 1 and 2 file, has no ONNX graph: it is
run with torch where torch is installed, and elsewhere it is refused with the advice to re-save it
with ``banknote-guard upgrade-model`` on a training workstation.

Opening a file never executes anything from it: the header is checked (size, JSON, marker, version,
tensor offsets inside the file) before any tensor is read, and the tensors are plain numbers (the
ONNX graph is a description of arithmetic that onnxruntime interprets, with standard operators only:
onnxruntime loads no code named by a model). Files are written atomically: a reader sees the old
model or the new one.

**Integrity** (format 2 on): the metadata also holds ``sha256``, the SHA-256 of the whole file as it
would be without that one entry (the tensor table, the other metadata and every tensor byte; see
:func:`content_digest`). Opening a file recomputes it, so a flipped bit anywhere is refused; its first
12 hex digits are the model's identity shown in the GUI, ``verify --json`` and reports. Then every
part is checked (:mod:`~banknote_guard.verify.model_check`: finite numbers, consistent shapes, sane
network settings, bounded settings document) before the model may judge a note.

Schema versions: :data:`SCHEMA_VERSION` is written; files of a higher version are refused with a
request to upgrade; every lower version this code knows is read. Format 1 files (no hash) still
open, and say so: their identity is computed from their contents and marked unchecked. Format 2 files
(float32 weights, no ONNX graph) open unchanged.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from banknote_guard import __version__
from banknote_guard.errors import ModelFileError, parameter_error
from banknote_guard.fileio import atomic_path
from banknote_guard.jsonable import to_jsonable
from banknote_guard.verify import model_check
from banknote_guard.verify.calibration import Calibration
from banknote_guard.verify.gallery import Gallery
from banknote_guard.verify.svm import OneVsRestSVM

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.embedder import BaseEmbedder
    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.model.onnx_runtime import OnnxGraph

log = logging.getLogger(__name__)

FORMAT_MARKER = "banknote_guard-model"
SCHEMA_VERSION = 3
#: The first format that stores the integrity hash.
FIRST_HASHED_VERSION = 2
#: The first format that stores the network as ONNX (and its large weights as float16).
FIRST_ONNX_VERSION = 3
#: The tensor holding the ONNX graph's bytes.
ONNX_TENSOR = "onnx/graph"
#: Engines that can run the network: ``auto`` picks onnxruntime when the file has the ONNX graph.
ENGINES = ("auto", "onnxruntime", "torch")
#: A model file larger than this is refused before it is read (ours are 2-100 MB).
MAX_MODEL_BYTES = 1024 * 1024 * 1024
#: Hex digits of the SHA-256 shown as a model's identity.
IDENTITY_DIGITS = 12
FILE_SUFFIX = ".bgm"
#: A header larger than this is not ours (ours are a few hundred kB at most).
MAX_HEADER_BYTES = 64 * 1024 * 1024


def now_iso() -> str:
    """The current UTC time, to the second, in ISO 8601 (as stored in model summaries)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def weight_arrays(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Network weights as numpy arrays (from torch tensors on any device, or arrays), values unchanged."""
    return {
        str(name): np.ascontiguousarray(t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t))
        for name, t in state.items()
    }


def storage_weights(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Network weights as the model file (format 3 on) stores them, as numpy arrays.

    Floating-point tensors of two or more dimensions become float16 when every value stays finite in
    float16 (else float32); other floating-point tensors float32; integer tensors (batch-norm step
    counters) are kept. Tensors already in float16 stay so, so the conversion is idempotent.
    """
    out = weight_arrays(state)
    for name, a in out.items():
        if a.dtype.kind != "f" or a.dtype == np.float16:
            continue
        a = a.astype(np.float32)
        if a.ndim >= 2:
            with np.errstate(over="ignore"):
                half = a.astype(np.float16)
            if np.isfinite(half).all() or not np.isfinite(a).all():
                a = half
        out[name] = np.ascontiguousarray(a)
    return out


def torch_state(state: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Arrays as torch tensors for ``load_state_dict``: floating point as float32 (needs torch)."""
    import torch

    return {
        k: torch.from_numpy(np.array(v, dtype=np.float32 if v.dtype.kind == "f" else v.dtype)) for k, v in state.items()
    }


def round_to_storage(net: Any) -> None:
    """Round a torch network's weights in place to what its model file will hold (:func:`storage_weights`),
    so that what is calibrated on it is exactly what a saved model computes."""
    net.load_state_dict(torch_state(storage_weights(net.state_dict())))


@dataclass
class ModelBundle:
    """A trained model: network weights, preprocessing settings, gallery, SVMs, thresholds, summary.

    Attributes:
        model_config: :class:`~banknote_guard.model.config.ModelConfig` as a dict (rebuilds the network
            and its input preprocessing).
        train_config: :class:`~banknote_guard.model.config.TrainConfig` as a dict.
        state_dict: network weights (name -> numpy array; torch tensors given here are converted). A
            saved or loaded model holds them as stored (:func:`storage_weights`).
        gallery: the fitted :class:`~banknote_guard.verify.gallery.Gallery`.
        svm: the fitted :class:`~banknote_guard.verify.svm.OneVsRestSVM`.
        calibration: thresholds (:class:`~banknote_guard.verify.calibration.Calibration`).
        summary: training history, dataset statistics, metrics, ``created`` (ISO time), ``app_version``,
            ``enrolled`` (denominations added later: id -> k, method, time).
        schema_version: version of the file layout.
        path: the file this bundle was loaded from or last saved to, if any.
    """

    model_config: dict[str, Any]
    train_config: dict[str, Any]
    state_dict: dict[str, np.ndarray]
    gallery: Gallery
    svm: OneVsRestSVM
    calibration: Calibration
    summary: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    path: Path | None = None
    #: Local evidence (:class:`~banknote_guard.verify.local_evidence.LocalMemory`: genuine cell statistics
    #: per denomination, stored as ``local/`` arrays and the payload's ``local``); None in older models,
    #: which then score with the embedding distance alone.
    local_memory: Any = None
    #: Keypoint prototypes (:class:`~banknote_guard.verify.keypoints.KeypointPrototypes`: genuine pictures'
    #: print per denomination, stored as ``keypoints/`` arrays and the payload's ``keypoints``) that name a
    #: note by its print; None in older models, which name notes by the embedding alone.
    keypoints: Any = None
    #: The counterfeit head (:class:`~banknote_guard.verify.counterfeit_head.CounterfeitHead`: a linear
    #: counterfeit direction in the embedding, stored as ``head/weights`` and the payload's ``head``),
    #: added to the distance score; None in older models and models trained without counterfeits.
    counterfeit_head: Any = None

    def __post_init__(self) -> None:
        self.state_dict = weight_arrays(self.state_dict)
        self._embedder: "BaseEmbedder | None" = None  # built on first use (see ``embedder``)
        #: The network as an ONNX graph (from the file, or exported at the last save) and the
        #: fingerprint of the weights it was made with (it is used only while they are unchanged).
        self._onnx: "OnnxGraph | None" = None
        self._onnx_weights: str | None = None
        #: SHA-256 of the file this model was read from or last written to (None: never on disk).
        self.sha256: str | None = None
        #: True when the hash was stored in the file and matched its contents at load.
        self.integrity_checked = False

    @property
    def identity(self) -> str | None:
        """The model's short identity: the first hex digits of its SHA-256 (None until saved or loaded)."""
        return None if self.sha256 is None else self.sha256[:IDENTITY_DIGITS]

    # --- views -----------------------------------------------------------------------------------

    @property
    def denominations(self) -> list[str]:
        """Denomination ids the model knows, sorted."""
        return sorted(self.gallery.classes_)

    @property
    def config(self) -> "ModelConfig":
        """The network's :class:`~banknote_guard.model.config.ModelConfig`."""
        from banknote_guard.model.config import ModelConfig

        return ModelConfig.from_dict(self.model_config)

    @property
    def embedder(self) -> "BaseEmbedder":
        """The network wrapped for inference (built once, on first use, then cached): onnxruntime when
        the model has its ONNX graph, else torch (see :meth:`make_embedder`)."""
        if self._embedder is None:
            self._embedder = self.make_embedder()
        return self._embedder

    @property
    def has_onnx(self) -> bool:
        """Whether the model holds an ONNX graph made from its current weights."""
        if self._onnx is None:
            return False
        from banknote_guard.model.onnx_runtime import weights_fingerprint

        return self._onnx_weights == weights_fingerprint(self.state_dict)

    def make_embedder(self, engine: str = "auto", **options: Any) -> "BaseEmbedder":
        """A new embedder for this model.

        Args:
            engine: "auto" (onnxruntime when the model has its ONNX graph and onnxruntime is installed,
                else torch; torch also when a GPU was chosen for this process with
                :func:`~banknote_guard.model.devices.use_device`, as onnxruntime runs on the CPU here),
                "onnxruntime" or "torch".
            options: passed to the embedder (``batch_size``; ``threads`` for onnxruntime, ``device``
                for torch).

        Raises:
            ModelFileError: the model has no ONNX graph and torch is not installed (an older model
                file on a verification station), or "onnxruntime" was asked of a model without one.
        """
        from banknote_guard.model.devices import requested_device
        from banknote_guard.model.onnx_runtime import onnxruntime_available

        if engine not in ENGINES:
            raise parameter_error("engine", "ModelBundle.make_embedder", " or ".join(map(repr, ENGINES)), engine)
        if engine == "auto" and requested_device() not in (None, "cpu"):
            engine = "torch"  # a GPU was chosen (--device): onnxruntime here runs on the CPU only
        if engine != "torch" and self.has_onnx and (engine == "onnxruntime" or onnxruntime_available()):
            from banknote_guard.model.onnx_runtime import OnnxEmbedder, assemble_model

            assert self._onnx is not None
            weights = {n: self.state_dict[n] for n in self._onnx.weights}
            return OnnxEmbedder(assemble_model(self._onnx.graph, weights), self.config, name=self._name(), **options)
        if engine == "onnxruntime":
            raise ModelFileError(f"{self._name()!r} holds no ONNX network ({self._why_no_onnx()}).")
        from banknote_guard.model.requirements import torch_available

        if not torch_available():
            raise ModelFileError(
                f"{self._name()!r} cannot be used on this station: {self._why_no_onnx()}, and PyTorch is not "
                f"installed here. Re-save it on a training workstation with 'banknote-guard upgrade-model "
                f"{self._name()}' and use the new file."
            )
        from banknote_guard.model.embedder import Embedder

        return Embedder(self.build_net(), self.config, **options)

    def use_engine(self, engine: str = "auto", **options: Any) -> "BaseEmbedder":
        """Make :attr:`embedder` (what the verifier uses) the given engine (see :meth:`make_embedder`);
        returns it. For comparisons and benchmarks; the default choice needs no call."""
        self._embedder = self.make_embedder(engine, **options)
        return self._embedder

    def _name(self) -> str:
        return str(self.path) if self.path is not None else "the model"

    def _why_no_onnx(self) -> str:
        if self.schema_version < FIRST_ONNX_VERSION:
            return (f"it was saved by an older version of banknote_guard (model format {self.schema_version}) "
                    "without the ONNX network that stations run")
        if self._onnx is None:
            return "it was saved without its ONNX network (torch or the onnx package was missing)"
        return "its weights changed since its ONNX network was made; save it again"

    def build_net(self) -> "EmbeddingNet":
        """A fresh :class:`~banknote_guard.model.network.EmbeddingNet` (float32) with this model's weights,
        in eval mode. Needs torch (:class:`~banknote_guard.model.requirements.TrainingUnavailableError`)."""
        from banknote_guard.model.requirements import require_torch

        require_torch("Building the network from its weights")
        from banknote_guard.model.network import EmbeddingNet

        net = EmbeddingNet(self.config)
        try:
            net.load_state_dict(torch_state(self.state_dict))
        except RuntimeError as exc:
            raise ModelFileError(
                f"The network weights in the model file do not fit its network settings: {exc}"
            ) from exc
        net.eval()
        return net

    def describe(self) -> dict[str, Any]:
        """A short JSON-able description (GUI status bar, About box, ``verify --json``)."""
        cal = self.calibration
        metrics = self.summary.get("metrics", {})
        return {
            "path": None if self.path is None else str(self.path),
            "id": self.identity,
            "sha256": self.sha256,
            "integrity": "checked" if self.integrity_checked else "unchecked (older model format without a hash)",
            "schema_version": self.schema_version,
            "app_version": self.summary.get("app_version"),
            "created": self.summary.get("created"),
            "backbone": self.model_config.get("backbone"),
            "embedding_dim": self.model_config.get("embedding_dim"),
            "distance": self.gallery.distance,
            "image_size": [self.model_config.get("image_height"), self.model_config.get("image_width")],
            "network_runtime": "onnxruntime" if self.has_onnx else "torch",
            "local_evidence": self.local_memory is not None,
            "print_prototypes": 0 if self.keypoints is None else len(self.keypoints),
            "counterfeit_head": self.counterfeit_head is not None,
            "denominations": self.denominations,
            "enrolled": sorted(self.summary.get("enrolled", {})),
            "false_alarm_rate": cal.false_alarm_rate,
            "svm_kernel": self.svm.kernel,
            "epochs_trained": self.summary.get("epochs_trained"),
            "cancelled": bool(self.summary.get("cancelled", False)),
            "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float)) or v is None},
            "warnings": [str(w) for w in self.summary.get("warnings", [])],
        }

    # --- saving ----------------------------------------------------------------------------------

    def _export_onnx(self) -> None:
        """Round the weights to their stored precision, then make the ONNX graph from them unless the
        model has it already.

        Without torch or the ``onnx`` package, or when the export fails its check, the model is saved
        without a graph (it then runs with torch only) and the reason is logged.
        """
        from banknote_guard.model.onnx_runtime import weights_fingerprint

        before = weights_fingerprint(self.state_dict)
        self.state_dict = storage_weights(self.state_dict)
        if weights_fingerprint(self.state_dict) != before:
            self._embedder = None  # it computed with the unrounded weights
        if self.has_onnx or not self.state_dict:
            return
        self._onnx = self._onnx_weights = None
        from banknote_guard.model.requirements import torch_available

        if not torch_available():
            log.warning("Saving %s without its ONNX network: exporting it needs torch.", self._name())
            return
        from banknote_guard.model.onnx_export import ExportError, export_graph

        try:
            self._onnx = export_graph(self.build_net(), self.state_dict)
        except ExportError as exc:
            log.warning("Saving %s without its ONNX network: %s", self._name(), exc)
            return
        self._onnx_weights = weights_fingerprint(self.state_dict)

    def _tensors(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, arr in self.state_dict.items():
            out[f"net/{name}"] = np.ascontiguousarray(arr)
        if self._onnx is not None:
            out[ONNX_TENSOR] = np.frombuffer(self._onnx.graph, dtype=np.uint8)
        g_arrays, _ = self.gallery.to_arrays()
        for name, a in g_arrays.items():
            out[f"gallery/{name}"] = np.ascontiguousarray(a)
        s_arrays, _ = self.svm.to_arrays()
        for name, a in s_arrays.items():
            out[f"svm/{name}"] = np.ascontiguousarray(a)
        out["calibration/pooled_scores"] = np.ascontiguousarray(self.calibration.pooled_scores, dtype=np.float64)
        if self.local_memory is not None:
            l_arrays, _ = self.local_memory.to_arrays()
            for name, a in l_arrays.items():
                out[f"local/{name}"] = np.ascontiguousarray(a)
        if self.keypoints is not None:
            for name, a in self.keypoints.to_arrays()[0].items():
                out[f"keypoints/{name}"] = np.ascontiguousarray(a)
        if self.counterfeit_head is not None:
            for name, a in self.counterfeit_head.to_arrays()[0].items():
                out[f"head/{name}"] = np.ascontiguousarray(a)
        return out

    def _payload(self) -> dict[str, Any]:
        _, g_meta = self.gallery.to_arrays()
        _, s_meta = self.svm.to_arrays()
        summary = dict(self.summary)
        summary.setdefault("created", now_iso())
        summary.setdefault("app_version", __version__)
        payload = {
            "model_config": self.model_config,
            "train_config": self.train_config,
            "gallery": g_meta,
            "svm": s_meta,
            "calibration": self.calibration.to_json(),
            "summary": to_jsonable(summary),
        }
        if self.local_memory is not None:
            payload["local"] = self.local_memory.to_arrays()[1]
        if self.keypoints is not None:
            payload["keypoints"] = self.keypoints.to_arrays()[1]
        if self.counterfeit_head is not None:
            payload["head"] = self.counterfeit_head.to_arrays()[1]
        if self._onnx is not None:
            from banknote_guard.model.onnx_runtime import INPUT_NAME, OPSET, OUTPUT_NAME

            payload["onnx"] = {
                "input": INPUT_NAME, "output": OUTPUT_NAME, "opset": OPSET,
                "weights": list(self._onnx.weights), "exporter": self._onnx.exporter,
            }
        return payload

    def to_bytes(self) -> bytes:
        """The file's bytes, with the integrity hash in the metadata (the ONNX graph is exported first
        when the model has none for its current weights)."""
        from safetensors.numpy import save

        self._export_onnx()
        metadata = {
            "format": FORMAT_MARKER,
            "schema_version": str(SCHEMA_VERSION),
            "payload": json.dumps(self._payload(), allow_nan=False, sort_keys=True),
        }
        tensors = self._tensors()
        unsigned = save(tensors, metadata=metadata)
        header, body = _split(unsigned, "model")
        metadata["sha256"] = content_digest(header, body)
        return save(tensors, metadata=metadata)

    def save(self, path: str | Path) -> Path:
        """Write the model atomically to ``path`` (``.bgm`` suggested) and remember the path."""
        path = Path(path)
        data = self.to_bytes()
        with atomic_path(path) as tmp:
            _write_file(tmp, data)
        self.path = path
        self.schema_version = SCHEMA_VERSION
        self.sha256 = json.loads(data[8 : 8 + struct.unpack("<Q", data[:8])[0]])["__metadata__"]["sha256"]
        self.integrity_checked = True
        if self._embedder is not None and self._embedder.engine != "onnxruntime" and self.has_onnx:
            self._embedder = None  # verify from now on as a station will, with the graph just saved
        return path

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> "ModelBundle":
        """Open a model file; raises :class:`ModelFileError` for a missing, foreign, damaged or newer file."""
        path = Path(path)
        try:
            info = path.stat()
        except FileNotFoundError:
            raise ModelFileError(f"Model file {str(path)!r} does not exist.") from None
        except OSError as exc:
            raise ModelFileError(f"Cannot read model file {str(path)!r}: {exc.strerror}.") from exc
        if stat.S_ISDIR(info.st_mode):
            raise ModelFileError(f"{str(path)!r} is a folder, not a model file.")
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{str(path)!r} is not a regular file (a pipe or a device?), so it is not a model file.")
        if info.st_size > MAX_MODEL_BYTES:
            raise ModelFileError(
                f"{str(path)!r} is {info.st_size / 2**30:.1f} GB: far larger than any banknote_guard model "
                f"(at most {MAX_MODEL_BYTES / 2**30:.0f} GB), so it was not opened."
            )
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(MAX_MODEL_BYTES + 1)
        except OSError as exc:
            raise ModelFileError(f"Cannot read model file {str(path)!r}: {exc.strerror}.") from exc
        if len(data) > MAX_MODEL_BYTES:
            raise ModelFileError(f"{str(path)!r} grew while it was read; it was not opened.")
        bundle = cls.from_bytes(data, name=str(path))
        bundle.path = path
        return bundle

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "model") -> "ModelBundle":
        """Parse a model file's bytes (see :meth:`load`)."""
        header = _read_header(data, name)
        meta = header.get("__metadata__") or {}
        try:
            version = int(meta["schema_version"])
            payload = json.loads(meta["payload"])
        except (KeyError, ValueError, TypeError, RecursionError) as exc:
            raise ModelFileError(f"{name!r} is a damaged banknote_guard model: its settings cannot be read.") from exc
        if version > SCHEMA_VERSION:
            raise ModelFileError(
                f"{name!r} was made by a newer version of banknote_guard (model format {version}; this version "
                f"reads up to {SCHEMA_VERSION}). Please upgrade banknote_guard to open it."
            )
        if version < 1:
            raise ModelFileError(f"{name!r} is a damaged banknote_guard model (format version {version}).")
        digest = _check_digest(data, header, version, name)
        payload = model_check.check_payload(payload, name)
        model_check.check_network_settings(payload["model_config"], name)
        try:
            from safetensors.numpy import load

            tensors = load(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a damaged file
            raise ModelFileError(f"{name!r} is a damaged banknote_guard model: {exc}") from exc
        model_check.check_arrays(tensors, name)
        onnx_names = model_check.check_onnx(payload, tensors, name) if version >= FIRST_ONNX_VERSION else None
        try:
            bundle = cls._from_parts(tensors, payload, version)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ModelFileError(
                f"{name!r} is a damaged banknote_guard model: a part is missing or malformed ({exc})."
            ) from exc
        model_check.check_consistency(bundle, name)
        if onnx_names is not None:
            from banknote_guard.model.onnx_runtime import OnnxGraph, weights_fingerprint

            exporter = str(payload["onnx"].get("exporter", ""))
            bundle._onnx = OnnxGraph(tensors[ONNX_TENSOR].tobytes(), onnx_names, exporter)
            bundle._onnx_weights = weights_fingerprint(bundle.state_dict)
        bundle.sha256 = digest
        bundle.integrity_checked = version >= FIRST_HASHED_VERSION
        return bundle

    @classmethod
    def _from_parts(cls, tensors: dict[str, np.ndarray], payload: dict[str, Any], version: int) -> "ModelBundle":
        def group(prefix: str) -> dict[str, np.ndarray]:
            n = len(prefix)
            return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix)}

        state = group("net/")
        if not state:
            raise KeyError("network weights")
        gallery = Gallery.from_arrays(group("gallery/"), payload["gallery"])
        svm = OneVsRestSVM.from_arrays(group("svm/"), payload["svm"])
        calibration = Calibration.from_json(payload["calibration"], tensors.get("calibration/pooled_scores"))
        local_memory = None
        if payload.get("local") is not None:
            from banknote_guard.verify.local_evidence import LocalMemory

            local_memory = LocalMemory.from_arrays(group("local/"), payload["local"])
        keypoints = None
        if payload.get("keypoints") is not None:
            from banknote_guard.verify.keypoints import KeypointPrototypes

            keypoints = KeypointPrototypes.from_arrays(group("keypoints/"), payload["keypoints"])
        head = None
        if payload.get("head") is not None:
            from banknote_guard.verify.counterfeit_head import CounterfeitHead

            head = CounterfeitHead.from_arrays(group("head/"), payload["head"], int(gallery.centroids_.shape[1]))
        if not isinstance(payload["model_config"], dict) or not isinstance(payload["train_config"], dict):
            raise TypeError("configuration is not a mapping")
        return cls(
            model_config=payload["model_config"],
            train_config=payload["train_config"],
            state_dict=state,
            gallery=gallery,
            svm=svm,
            calibration=calibration,
            summary=payload.get("summary", {}),
            schema_version=version,
            local_memory=local_memory,
            keypoints=keypoints,
            counterfeit_head=head,
        )


def _write_file(path: Path, data: bytes, chunk: int = 1 << 20) -> None:
    """Write ``data`` to ``path`` in chunks (a separate function so tests can simulate a failure mid-write)."""
    with open(path, "wb") as fh:
        for start in range(0, len(data), chunk):
            fh.write(data[start : start + chunk])


def _split(data: bytes, name: str) -> tuple[dict[str, Any], bytes]:
    """The parsed header and the tensor bytes of a safetensors file."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n].decode("utf-8")), data[8 + n :]


def content_digest(header: dict[str, Any], body: bytes) -> str:
    """SHA-256 (hex) of a model file's header without its ``sha256`` entry, then its tensor bytes.

    The header is hashed in a canonical form (sorted keys, no spaces), so the digest does not depend on
    how the JSON was laid out, only on what it says.
    """
    meta = {k: v for k, v in (header.get("__metadata__") or {}).items() if k != "sha256"}
    canonical = dict(header, __metadata__=meta)
    h = hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    h.update(b"\0")
    h.update(body)
    return h.hexdigest()


def _check_digest(data: bytes, header: dict[str, Any], version: int, name: str) -> str:
    """The file's digest; raises when a format-2 file's stored hash is missing or does not match."""
    (n,) = struct.unpack("<Q", data[:8])
    digest = content_digest(header, data[8 + n :])
    stored = (header.get("__metadata__") or {}).get("sha256")
    if version >= FIRST_HASHED_VERSION:
        if not isinstance(stored, str) or stored != digest:
            raise ModelFileError(
                f"{name!r} is damaged or was altered: its contents do not match its integrity hash. "
                "Copy the model file again from its source."
            )
    return digest


def _read_header(data: bytes, name: str) -> dict[str, Any]:
    """Check and parse the safetensors header of a model file without touching the tensors."""
    not_ours = (
        f"{name!r} is not a banknote_guard model file (unrecognised format)"
        ", or it is damaged. Choose a .bgm file made by 'banknote-guard train'."
    )
    if len(data) < 8:
        raise ModelFileError(f"{name!r} is empty or truncated: it is not a usable banknote_guard model.")
    (n,) = struct.unpack("<Q", data[:8])
    if n < 2 or n > MAX_HEADER_BYTES:
        raise ModelFileError(not_ours)
    if 8 + n > len(data):
        if data[8:9] == b"{":
            raise ModelFileError(f"{name!r} is truncated (the file ends early). Copy the model file again.")
        raise ModelFileError(not_ours)
    raw = data[8 : 8 + n]
    if raw[:1] != b"{":
        raise ModelFileError(not_ours)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(not_ours) from exc
    if not isinstance(header, dict):
        raise ModelFileError(not_ours)
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_MARKER:
        raise ModelFileError(
            f"{name!r} is not a banknote_guard model: it is a safetensors file made by another program."
        )
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            start, stop = (int(v) for v in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{name!r} is a damaged banknote_guard model (bad tensor table).") from exc
        if start < 0 or stop < start:
            raise ModelFileError(f"{name!r} is a damaged banknote_guard model (bad tensor table).")
        end = max(end, stop)
    body = len(data) - 8 - n
    if end > body:
        raise ModelFileError(f"{name!r} is truncated (the file ends early). Copy the model file again.")
    return header
