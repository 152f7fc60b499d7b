"""Export the embedding network to ONNX for the model file (training workstations: torch and onnx).

:func:`export_graph` traces an :class:`~banknote_guard.model.network.EmbeddingNet` with torch's
TorchScript exporter (``torch.onnx.export(..., dynamo=False)``; the dynamo exporter needs the
``onnxscript`` package and gave no benefit here), with a variable batch size and the note size of the
model fixed. Batch normalisation is kept as its own operator (``TrainingMode.PRESERVE``), so every
weight of the graph is a tensor of the network's state dict under the same name; those are taken out
of the graph (the model file holds them once, in ``net/``) and
:func:`~banknote_guard.model.onnx_runtime.assemble_model` puts them back. onnxruntime fuses each
batch normalisation into its convolution when it loads the model, so keeping it costs no speed.

Before the graph is accepted it is run once with onnxruntime against torch on the same input: an
export that does not reproduce the network (within :data:`EXPORT_TOLERANCE`) is an error, never a
silently different model.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING, Mapping

import numpy as np

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.model.onnx_runtime import (
    INPUT_NAME,
    OPSET,
    OUTPUT_NAME,
    OnnxEmbedder,
    OnnxGraph,
    assemble_model,
)
from banknote_guard.model.preprocess import prepared_size

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.model.network import EmbeddingNet

#: Largest difference allowed between torch's and onnxruntime's embeddings of the check input.
EXPORT_TOLERANCE = 1e-4


class ExportError(BanknoteGuardError):
    """The network could not be exported to ONNX (or the export does not reproduce it)."""


def export_graph(net: "EmbeddingNet", weights: Mapping[str, np.ndarray]) -> OnnxGraph:
    """Export ``net`` (whose state dict equals ``weights``) and take the weights out of the graph.

    Raises:
        ExportError: the ``onnx`` package is missing, the exporter failed, a graph weight does not
            match the state dict, or onnxruntime's output differs from torch's.
    """
    import torch

    try:
        import onnx
    except ImportError as exc:
        raise ExportError(
            "Saving a model needs the 'onnx' package to export its network; install the training extra: "
            "pip install 'banknote-guard[train]'."
        ) from exc
    config = net.config
    h, w = prepared_size(config)
    probe = torch.from_numpy(_probe_input(h, w))
    net = net.eval()
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # The tracer warns that the padding arithmetic of the "same" convolutions becomes constants:
            # intended, the note size is fixed per model.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                net, (probe[:1],), buf, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "notes"}, OUTPUT_NAME: {0: "notes"}}, opset_version=OPSET,
                do_constant_folding=True, training=torch.onnx.TrainingMode.PRESERVE, dynamo=False,
            )
    except Exception as exc:  # noqa: BLE001 - any exporter failure means: no ONNX for this network
        raise ExportError(f"The network could not be exported to ONNX: {exc}") from exc
    model = onnx.load_from_string(buf.getvalue())
    kept, taken = [], []
    for init in model.graph.initializer:
        source = weights.get(init.name)
        if source is not None and _same(onnx.numpy_helper.to_array(init), source):
            taken.append(init.name)
        else:
            kept.append(init)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    graph = OnnxGraph(model.SerializeToString(), tuple(taken), f"torch {torch.__version__} TorchScript exporter")
    _check_export(net, graph, weights, probe)
    return graph


def _probe_input(h: int, w: int) -> np.ndarray:
    """Two deterministic inputs in the normalised range: a smooth gradient and noise."""
    rng = np.random.default_rng(0)
    ramp = np.broadcast_to(np.linspace(-1.0, 1.0, w, dtype=np.float32), (1, 3, h, w))
    noise = rng.uniform(-1.0, 1.0, size=(1, 3, h, w)).astype(np.float32)
    return np.ascontiguousarray(np.concatenate([ramp, noise]))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    b = np.asarray(b)
    return a.shape == b.shape and np.array_equal(a.astype(np.float32), b.astype(np.float32))


def _check_export(net: "EmbeddingNet", graph: OnnxGraph, weights: Mapping[str, np.ndarray], probe) -> None:  # noqa: ANN001
    import torch

    model = assemble_model(graph.graph, {n: weights[n] for n in graph.weights})
    session = OnnxEmbedder(model, net.config, name="exported network").session
    with torch.inference_mode():
        expected = net(probe).float().numpy()
    (got,) = session.run([OUTPUT_NAME], {INPUT_NAME: probe.numpy()})
    diff = float(np.abs(np.asarray(got) - expected).max())
    if not diff <= EXPORT_TOLERANCE:
        raise ExportError(
            f"The ONNX export does not reproduce the network (largest difference {diff:.2e}, allowed "
            f"{EXPORT_TOLERANCE:.0e}); the model was not saved with it."
        )
