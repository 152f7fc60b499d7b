"""The network inside the model file runs with onnxruntime: the embeddings and verdicts of torch, weights
in float16, older model files still usable, and the ONNX graph covered by the integrity checks."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.errors import ModelFileError, ParameterError
from banknote_guard.verify.bundle import ONNX_TENSOR, ModelBundle, content_digest, storage_weights
from banknote_guard.verify.verifier import score_embeddings

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


# --- helpers ------------------------------------------------------------------------------------------


def _split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def legacy_bytes(bundle: ModelBundle, state: dict | None = None) -> bytes:
    """The model as version 2 wrote it: float32 weights, no ONNX graph, schema_version 2, hashed."""
    from safetensors.numpy import save

    tensors = {k: v for k, v in bundle._tensors().items() if not k.startswith(("net/", "onnx/"))}
    for name, w in (state or bundle.state_dict).items():
        a = np.asarray(w.detach().cpu().numpy() if hasattr(w, "detach") else w)
        tensors[f"net/{name}"] = np.ascontiguousarray(a.astype(np.float32) if a.dtype.kind == "f" else a)
    payload = bundle._payload()
    payload.pop("onnx", None)
    meta = {"format": "banknote_guard-model", "schema_version": "2", "payload": json.dumps(payload)}
    header, body = _split(save(tensors, metadata=meta))
    meta["sha256"] = content_digest(header, body)
    return save(tensors, metadata=meta)


def resigned(data: bytes, edit) -> bytes:  # noqa: ANN001 - edit(tensors, payload)
    """The model with its tensors/payload edited and a valid hash again (what a careful forger makes)."""
    from safetensors.numpy import load, save

    header, _ = _split(data)
    meta = {k: v for k, v in header["__metadata__"].items() if k != "sha256"}
    tensors = dict(load(data))
    payload = json.loads(meta["payload"])
    edit(tensors, payload)
    meta["payload"] = json.dumps(payload)
    h, body = _split(save(tensors, metadata=meta))
    meta["sha256"] = content_digest(h, body)
    return save(tensors, metadata=meta)


def _verdicts(bundle: ModelBundle, emb: np.ndarray, names: list[str]) -> list[tuple[str, str | None]]:
    return [(r.verdict, r.denomination) for r in score_embeddings(bundle, emb, names)]


@pytest.fixture(scope="module")
def demo() -> ModelBundle:
    from banknote_guard.resources import demo_model_path

    return ModelBundle.load(demo_model_path())


@pytest.fixture(scope="module")
def sample_notes(demo) -> tuple[list[str], list[np.ndarray]]:
    from banknote_guard.model.embedder import prepare_paths
    from banknote_guard.resources import sample_notes_dir

    paths = sorted(p for p in sample_notes_dir().iterdir() if p.suffix == ".jpg")
    notes, failures = prepare_paths(paths, demo.config)
    assert not failures and len(paths) >= 10
    return [p.name for p in paths], notes


# --- the bundled demo model ----------------------------------------------------------------------------


def test_the_demo_model_is_in_the_station_format(demo) -> None:
    from banknote_guard.resources import demo_model_path

    assert demo.schema_version == 3 and demo.has_onnx and demo.integrity_checked
    assert demo.describe()["network_runtime"] == "onnxruntime"
    assert demo.embedder.engine == "onnxruntime"
    sizes = {}
    for a in demo.state_dict.values():
        sizes[a.dtype.name] = sizes.get(a.dtype.name, 0) + a.nbytes
    assert sizes["float16"] > 0.95 * sum(sizes.values())  # kernels in half precision: nearly all the bytes
    # was 14.2 MB in float32; the print prototypes (verify/keypoints.py) come on top
    print_bytes = sum(a.nbytes for a in demo.keypoints.to_arrays()[0].values()) if demo.keypoints else 0
    assert print_bytes < 5e6
    assert demo_model_path().stat().st_size - print_bytes < 8.5e6


def test_onnxruntime_and_torch_agree_on_the_sample_notes(demo, sample_notes) -> None:
    names, notes = sample_notes
    ort = demo.make_embedder("onnxruntime").embed(notes)
    ref = demo.make_embedder("torch").embed(notes)
    assert np.abs(ort - ref).max() <= 1e-4
    assert _verdicts(demo, ort, names) == _verdicts(demo, ref, names)


def test_the_float16_demo_model_judges_the_reference_notes_as_the_float32_one_did(demo) -> None:
    """Notes straightened once and stored (``data/demo_notes``) with their embeddings under the demo model's
    float32 weights (format 2, torch; see ``data/README.md``): the float16 model run with onnxruntime
    must stay close to them and give every note the same verdict and denomination."""
    from banknote_guard.data.imageio import load_image

    ref = json.loads((DATA / "demo_model_float32_embeddings.json").read_text(encoding="utf-8"))
    names = sorted(ref["embeddings"])
    notes = [load_image(DATA / "demo_notes" / n) for n in names]
    expected = np.array([ref["embeddings"][n] for n in names], dtype=np.float32)
    got = demo.embedder.embed(notes)
    assert np.abs(got - expected).max() < 0.02
    assert _verdicts(demo, got, names) == _verdicts(demo, expected, names)
    assert len(names) >= 30


# --- saving and loading ----------------------------------------------------------------------------------


def test_a_saved_model_holds_its_network_as_onnx_with_float16_kernels(tiny_bundle, pattern_dataset, tmp_path) -> None:
    from banknote_guard.verify.verifier import Verifier

    root, _ = pattern_dataset
    loaded = ModelBundle.load(tiny_bundle.save(tmp_path / "m.bgm"))
    assert loaded.has_onnx and loaded.embedder.engine == "onnxruntime"
    kinds = {(a.ndim >= 2, a.dtype.name) for a in loaded.state_dict.values() if a.dtype.kind == "f"}
    assert kinds == {(True, "float16"), (False, "float32")}
    by_ort = Verifier(loaded).verify_paths([root])
    loaded.use_engine("torch")
    by_torch = Verifier(loaded).verify_paths([root])
    assert [(r.verdict, r.denomination) for r in by_ort] == [(r.verdict, r.denomination) for r in by_torch]
    assert max(abs(a.counterfeit_score - b.counterfeit_score) for a, b in zip(by_ort, by_torch)) < 1e-3


def test_saving_again_keeps_the_graph_and_changing_weights_makes_a_new_one(tiny_bundle, monkeypatch) -> None:
    from banknote_guard.model import onnx_export

    real_export = onnx_export.export_graph

    def no_export(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AssertionError("the graph was exported again although the weights did not change")

    monkeypatch.setattr(onnx_export, "export_graph", no_export)
    first = tiny_bundle.to_bytes()  # loaded with its graph: saved again without exporting it
    assert ModelBundle.from_bytes(first).sha256 == tiny_bundle.sha256
    monkeypatch.setattr(onnx_export, "export_graph", real_export)
    name = next(k for k, v in tiny_bundle.state_dict.items() if v.ndim >= 2)
    tiny_bundle.state_dict[name] = (tiny_bundle.state_dict[name].astype(np.float32) * 0.5).astype(np.float16)
    assert not tiny_bundle.has_onnx  # the graph no longer fits the weights: never used
    again = ModelBundle.from_bytes(tiny_bundle.to_bytes())
    assert again.has_onnx and again._onnx.graph == ModelBundle.from_bytes(first)._onnx.graph
    assert np.array_equal(again.state_dict[name], tiny_bundle.state_dict[name])


def test_a_format_2_model_verifies_with_torch_and_upgrades(tiny_bundle, pattern_dataset, tmp_path) -> None:
    """The tiny model's network with its weights as trained (float32, not rounded), saved as version 2 did;
    then re-saved in the current format."""
    import torch

    from banknote_guard.model.network import EmbeddingNet
    from banknote_guard.verify.verifier import Verifier

    root, _ = pattern_dataset
    torch.manual_seed(0)  # the tiny model's network (conftest.tiny_net), before its weights were rounded
    net = EmbeddingNet(tiny_bundle.config).eval()
    old = ModelBundle.from_bytes(legacy_bytes(tiny_bundle, net.state_dict()))
    assert old.schema_version == 2 and not old.has_onnx and old.integrity_checked
    assert all(a.dtype != np.float16 for a in old.state_dict.values())
    assert old.embedder.engine == "torch"
    with pytest.raises(ModelFileError, match="no ONNX network.*older version"):
        old.make_embedder("onnxruntime")
    before = Verifier(old).verify_paths([root])
    upgraded = ModelBundle.load(old.save(tmp_path / "up.bgm"))
    assert upgraded.schema_version == 3 and upgraded.embedder.engine == "onnxruntime"
    after = Verifier(upgraded).verify_paths([root])
    # float16 rounding moves scores a little: verdicts and denominations stay
    assert [(r.verdict, r.denomination) for r in after] == [(r.verdict, r.denomination) for r in before]
    moved = max(abs(a.counterfeit_score - b.counterfeit_score) / b.threshold for a, b in zip(after, before))
    assert moved < 0.02  # of the threshold


def test_a_format_1_model_still_opens(tiny_bundle) -> None:
    header, body = _split(legacy_bytes(tiny_bundle))
    header["__metadata__"].pop("sha256")
    header["__metadata__"]["schema_version"] = "1"
    raw = json.dumps(header).encode()
    old = ModelBundle.from_bytes(struct.pack("<Q", len(raw)) + raw + body)
    assert old.schema_version == 1 and not old.has_onnx and not old.integrity_checked
    assert old.embedder.engine == "torch"


# --- the graph and the integrity checks ---------------------------------------------------------------------


def test_one_flipped_bit_in_the_graph_is_found(tiny_bundle_bytes) -> None:
    header, _ = _split(tiny_bundle_bytes)
    (n,) = struct.unpack("<Q", tiny_bundle_bytes[:8])
    start, stop = header[ONNX_TENSOR]["data_offsets"]
    for pos in (start, (start + stop) // 2, stop - 1):
        data = bytearray(tiny_bundle_bytes)
        data[8 + n + pos] ^= 0x10
        with pytest.raises(ModelFileError, match="integrity"):
            ModelBundle.from_bytes(bytes(data))


def test_a_forged_graph_with_a_valid_hash_never_judges(tiny_bundle_bytes) -> None:
    def garbage(tensors, payload):  # noqa: ANN001
        tensors[ONNX_TENSOR] = np.frombuffer(b"\x0a\x03abc" * 50, dtype=np.uint8)

    forged = ModelBundle.from_bytes(resigned(tiny_bundle_bytes, garbage))
    with pytest.raises(ModelFileError, match="cannot be run"):
        forged.embedder.embed(np.zeros((1, 32, 64, 3), np.uint8))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t, p: p["onnx"]["weights"].append("no.such.weight"), "does not hold"),
        (lambda t, p: p["onnx"].update({"output": "logits"}), "input and output"),
        (lambda t, p: p["onnx"].update({"weights": "all"}), "malformed"),
        (lambda t, p: t.pop(ONNX_TENSOR), "incomplete"),
        (lambda t, p: t.update({ONNX_TENSOR: np.zeros((2, 2), np.uint8)}), "block of bytes"),
    ],
)
def test_an_inconsistent_graph_description_is_refused_at_load(tiny_bundle_bytes, edit, message) -> None:
    with pytest.raises(ModelFileError, match=message):
        ModelBundle.from_bytes(resigned(tiny_bundle_bytes, edit))


def test_a_graph_for_another_note_size_is_refused(tiny_bundle_bytes) -> None:
    bundle = ModelBundle.from_bytes(tiny_bundle_bytes)
    bundle.model_config = dict(bundle.model_config, image_height=48)
    with pytest.raises(ModelFileError, match="does not take 48 x 64"):
        bundle.make_embedder("onnxruntime")


def test_engine_names_are_checked(tiny_bundle) -> None:
    with pytest.raises(ParameterError):
        tiny_bundle.make_embedder("tensorflow")


def test_storage_precision_rules() -> None:
    state = {
        "conv.weight": np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 2, 2),
        "huge.weight": np.full((2, 2), 1e6, np.float32),  # beyond float16: kept in float32
        "bn.running_var": np.array([1e-5, 2.0], np.float32),
        "bn.num_batches_tracked": np.array(7, np.int64),
        "head.weight": np.ones((3, 4), np.float64),
    }
    out = storage_weights(state)
    assert {k: v.dtype.name for k, v in out.items()} == {
        "conv.weight": "float16", "huge.weight": "float32", "bn.running_var": "float32",
        "bn.num_batches_tracked": "int64", "head.weight": "float16",
    }
    assert np.array_equal(out["bn.running_var"], state["bn.running_var"])
    again = storage_weights(out)
    assert all(again[k].dtype == out[k].dtype and np.array_equal(again[k], out[k]) for k in out)
