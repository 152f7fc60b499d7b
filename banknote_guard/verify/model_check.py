"""What a model file must hold before it may judge a note: shape, range and finiteness checks.

A model file can be damaged on disk, cut short, edited by hand or made by a stranger. Opening one
(:meth:`~banknote_guard.verify.bundle.ModelBundle.from_bytes`) runs these checks after the integrity
hash and before anything is used, so a model that could give a wrong verdict is refused with one
readable :class:`~banknote_guard.errors.ModelFileError` instead of scoring notes:

- :func:`check_payload`: the JSON settings are a mapping of the expected parts, each a mapping, not
  nested deeper than :data:`MAX_PAYLOAD_DEPTH` nor longer than :data:`MAX_PAYLOAD_ITEMS` values.
- :func:`check_network_settings`: the network settings describe a network that can be built and that
  fits in memory (input at most :data:`MAX_INPUT_PIXELS` pixels).
- :func:`check_arrays`: every stored number is finite (no NaN, no infinity), so no comparison in the
  verdict rule can silently come out "genuine".
- :func:`check_consistency`: the gallery, the SVMs and the thresholds describe the same denominations
  with embeddings of the network's size; spreads and thresholds are positive and finite.
- :func:`check_onnx` (format 3 on): the ONNX graph's description names our input and output and only
  floating-point network weights that the file holds, and the graph is a bounded block of bytes.
  (Whether the graph itself runs and fits the network's input and embedding size is checked when it
  is first loaded into onnxruntime: :class:`~banknote_guard.model.onnx_runtime.OnnxEmbedder`.)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from banknote_guard.errors import ModelFileError

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.bundle import ModelBundle

#: The parts of the payload, each a JSON object.
PAYLOAD_PARTS = ("model_config", "train_config", "gallery", "svm", "calibration")
#: Deepest nesting of the payload's JSON (ours is 5 deep).
MAX_PAYLOAD_DEPTH = 32
#: Most values (objects, lists and scalars together) in the payload (ours: a few thousand).
MAX_PAYLOAD_ITEMS = 1_000_000
#: Largest network input, height x width pixels (the default is 128 x 256 = 32,768).
MAX_INPUT_PIXELS = 1024 * 1024
#: Largest ONNX graph without its weights (the default network's is about 0.2 MB).
MAX_ONNX_GRAPH_BYTES = 64 * 1024 * 1024


def _damaged(name: str, what: str) -> ModelFileError:
    return ModelFileError(f"{name!r} is a damaged or altered banknote_guard model: {what}. Use another copy.")


def check_payload(payload: Any, name: str) -> dict[str, Any]:
    """The payload as a dict, after checking its shape, depth and size."""
    if not isinstance(payload, dict):
        raise _damaged(name, "its settings are not a JSON object")
    for part in PAYLOAD_PARTS:
        if not isinstance(payload.get(part), dict):
            raise _damaged(name, f"its {part.replace('_', ' ')} is missing or not a JSON object")
    if "summary" in payload and not isinstance(payload["summary"], dict):
        raise _damaged(name, "its training summary is not a JSON object")
    items, stack = 0, [(payload, 1)]
    while stack:  # iterative: a hostile document cannot exhaust the interpreter's stack here
        value, depth = stack.pop()
        items += 1
        if depth > MAX_PAYLOAD_DEPTH:
            raise _damaged(name, f"its settings are nested deeper than {MAX_PAYLOAD_DEPTH} levels")
        if items > MAX_PAYLOAD_ITEMS:
            raise _damaged(name, f"its settings hold more than {MAX_PAYLOAD_ITEMS:,} values")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise _damaged(name, "its settings hold a number that is not finite")
    return payload


def check_network_settings(model_config: Mapping[str, Any], name: str) -> None:
    """Refuse network settings no network can be built from, or that would not fit in memory."""
    from banknote_guard.errors import ParameterError
    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.specs import validate_model_config

    try:
        config = ModelConfig.from_dict(dict(model_config))
        validate_model_config(config)
    except (ParameterError, TypeError, ValueError) as exc:
        raise _damaged(name, f"its network settings are invalid ({exc})") from exc
    pixels = config.image_height * config.image_width
    if pixels > MAX_INPUT_PIXELS:
        raise _damaged(
            name,
            f"its network input of {config.image_height} x {config.image_width} pixels is larger than the "
            f"{MAX_INPUT_PIXELS:,} pixels this version accepts",
        )


def check_arrays(tensors: Mapping[str, np.ndarray], name: str) -> None:
    """Every floating-point array must hold finite numbers only."""
    for key, arr in tensors.items():
        a = np.asarray(arr)
        if a.dtype.kind in "fc" and a.size and not np.isfinite(a).all():
            part = key.split("/", 1)[0]
            raise _damaged(name, f"its {part} data holds numbers that are not finite (NaN or infinity) in {key!r}")


def _positive_finite(value: Any, *, zero_ok: bool = False) -> bool:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and (v > 0 or (zero_ok and v == 0))


def check_consistency(bundle: "ModelBundle", name: str) -> None:
    """The parts of a loaded model must agree with each other (see the module docstring)."""
    gallery, svm, cal = bundle.gallery, bundle.svm, bundle.calibration
    classes = list(gallery.classes_)
    if not classes or len(set(classes)) != len(classes):
        raise _damaged(name, "its list of denominations is empty or repeats a denomination")
    dim = int(bundle.model_config["embedding_dim"])
    if gallery.centroids_.ndim != 2 or gallery.centroids_.shape[1] != dim:
        raise _damaged(name, f"its denomination centres do not have the network's {dim} dimensions")
    if gallery.reference_embeddings_.ndim != 2 or (
        len(gallery.reference_embeddings_) and gallery.reference_embeddings_.shape[1] != dim
    ):
        raise _damaged(name, "its stored reference embeddings do not fit the network")
    if len(gallery.reference_labels_) != len(gallery.reference_embeddings_) or (
        len(gallery.reference_labels_)
        and (gallery.reference_labels_.min() < 0 or gallery.reference_labels_.max() >= len(classes))
    ):
        raise _damaged(name, "its stored reference embeddings do not match its denominations")
    if not all(_positive_finite(s) for s in gallery.spreads_):
        raise _damaged(name, "a denomination's spread is not a positive number")
    if set(svm.classes_) != set(classes):
        raise _damaged(name, "its SVMs and its gallery name different denominations")
    if svm.n_features_in_ != dim:
        raise _damaged(name, f"its SVMs do not take the network's {dim}-dimensional embeddings")
    unknown_to_gallery = set(cal.thresholds) - set(classes)
    if unknown_to_gallery:
        raise _damaged(name, f"it has thresholds for denominations it does not know ({sorted(unknown_to_gallery)[0]})")
    # A threshold of 0 is allowed (it flags every note); a negative or non-finite one is not.
    if not all(_positive_finite(t, zero_ok=True) for t in cal.thresholds.values()):
        raise _damaged(name, "a threshold is negative or not a number")
    if not all(_positive_finite(t, zero_ok=True) for t in cal.kshot_thresholds.values()):
        raise _damaged(name, "a threshold for enrolled denominations is negative or not a number")
    if math.isnan(cal.unknown_threshold) or cal.unknown_threshold <= 0:
        raise _damaged(name, "its threshold for unknown notes is not a positive number")
    if not (0.0 < cal.false_alarm_rate <= 0.5):
        raise _damaged(name, "its false-alarm rate is out of range")
    memory = getattr(bundle, "local_memory", None)
    if memory is not None and set(memory.modes) - set(classes):
        raise _damaged(name, "its local evidence names a denomination it does not know")
    if bundle.keypoints is not None and bundle.keypoints.covered() - set(classes):
        raise _damaged(name, "its print prototypes name a denomination it does not know")


def check_onnx(payload: Mapping[str, Any], tensors: Mapping[str, np.ndarray], name: str) -> tuple[str, ...] | None:
    """The names of the network weights the ONNX graph needs, or None when the model has no graph."""
    from banknote_guard.model.onnx_runtime import INPUT_NAME, OUTPUT_NAME

    info = payload.get("onnx")
    graph = tensors.get("onnx/graph")
    if info is None and graph is None:
        return None
    if not isinstance(info, dict) or graph is None:
        raise _damaged(name, "its ONNX network is incomplete")
    if info.get("input") != INPUT_NAME or info.get("output") != OUTPUT_NAME:
        raise _damaged(name, "its ONNX network does not have the expected input and output")
    if graph.dtype != np.uint8 or graph.ndim != 1 or not 0 < graph.size <= MAX_ONNX_GRAPH_BYTES:
        raise _damaged(name, "its ONNX network is not a block of bytes of a plausible size")
    weights = info.get("weights")
    if not isinstance(weights, list) or not all(isinstance(w, str) for w in weights) or len(set(weights)) != len(weights):
        raise _damaged(name, "its ONNX network's list of weights is malformed")
    for w in weights:
        arr = tensors.get(f"net/{w}")
        if arr is None or arr.dtype.kind != "f":
            raise _damaged(name, f"its ONNX network needs a weight the file does not hold ({w!r})")
    return tuple(weights)
