"""A model file from a stranger, a damaged disk or a hand edit is refused with one clear message.

Each test reproduces a way a model file can go wrong; the model must either refuse to open with a
ModelFileError or open and give exactly the verdicts of the intact model, never different ones.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

from banknote_guard.errors import ModelFileError
from banknote_guard.verify.bundle import FIRST_HASHED_VERSION, ModelBundle, content_digest


def _split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw + body


def resign(data: bytes, edit_payload=None, edit_header=None, body=None) -> bytes:  # noqa: ANN001
    """The file with its payload/header edited and a *valid* integrity hash (what a careful forger makes)."""
    header, old_body = _split(data)
    meta = header["__metadata__"]
    if edit_payload is not None:
        payload = json.loads(meta["payload"])
        edit_payload(payload)
        meta["payload"] = json.dumps(payload)
    if edit_header is not None:
        edit_header(header)
    body = old_body if body is None else body
    meta.pop("sha256", None)
    meta["sha256"] = content_digest(header, body)
    return _join(header, body)


def _verdicts(bundle: ModelBundle, emb: np.ndarray) -> list[tuple[str, str, float]]:
    from banknote_guard.verify.verifier import score_embeddings

    res = score_embeddings(bundle, emb, [f"n{i}" for i in range(len(emb))])
    return [(r.verdict, r.denomination, r.counterfeit_score) for r in res]


@pytest.fixture
def probe(tiny_bundle_bytes) -> np.ndarray:
    bundle = ModelBundle.from_bytes(tiny_bundle_bytes)
    rng = np.random.default_rng(0)
    centres = bundle.gallery.centroids_
    x = np.concatenate([centres + 0.05 * rng.normal(size=centres.shape), rng.normal(size=(6, centres.shape[1]))])
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_a_saved_model_carries_its_hash_and_shows_it_as_identity(tiny_bundle, tmp_path) -> None:
    path = tiny_bundle.save(tmp_path / "m.bgm")
    loaded = ModelBundle.load(path)
    assert loaded.schema_version >= FIRST_HASHED_VERSION and loaded.integrity_checked
    assert loaded.sha256 == tiny_bundle.sha256 and len(loaded.sha256) == 64
    d = loaded.describe()
    assert d["id"] == loaded.sha256[:12] and d["integrity"] == "checked"


@pytest.mark.parametrize("part", ["gallery/spreads", "gallery/centroids", "svm/0.support_vectors", "calibration/pooled_scores"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused_even_with_a_valid_hash(tiny_bundle, part, bad) -> None:
    from safetensors.numpy import load, save

    data = tiny_bundle.to_bytes()
    header, _ = _split(data)
    tensors = load(data)
    arr = tensors[part].copy()
    arr.reshape(-1)[0] = bad
    tensors[part] = arr
    meta = {k: v for k, v in header["__metadata__"].items() if k != "sha256"}
    unsigned = save(tensors, metadata=meta)
    forged = resign(unsigned)
    with pytest.raises(ModelFileError, match="not finite"):
        ModelBundle.from_bytes(forged)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["calibration"]["thresholds"].update({next(iter(p["calibration"]["thresholds"])): "NaN"}), "threshold"),
        (lambda p: p["calibration"]["thresholds"].update({next(iter(p["calibration"]["thresholds"])): -1.0}), "threshold"),
        (lambda p: p["calibration"].update({"unknown_threshold": -3.0}), "unknown"),
        (lambda p: p["calibration"]["thresholds"].update({"XXX/1": 1.0}), "does not know"),
        (lambda p: p["model_config"].update({"image_height": 100000}), "network"),
        (lambda p: p["model_config"].update({"image_height": 1024, "image_width": 2048}), "pixels"),
        (lambda p: p["model_config"].update({"embedding_dim": 7}), "dimensions|fit|weights"),
        (lambda p: p.update({"gallery": ["not", "an", "object"]}), "not a JSON object"),
        (lambda p: p.update({"svm": None}), "not a JSON object"),
        (lambda p: p["summary"].update({"deep": json.loads("[" * 40 + "]" * 40)}), "nested deeper"),
        (lambda p: p["gallery"].update({"classes": 5}), "malformed|missing"),
    ],
)
def test_malformed_or_inconsistent_settings_are_refused(tiny_bundle, edit, message) -> None:
    forged = resign(tiny_bundle.to_bytes(), edit_payload=edit)
    with pytest.raises(ModelFileError, match=message):
        ModelBundle.from_bytes(forged)


def test_deeply_nested_json_in_the_header_is_a_clear_error(tiny_bundle) -> None:
    data = tiny_bundle.to_bytes()
    header, body = _split(data)
    raw = json.dumps(header).encode()[:-1] + b', "x": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    with pytest.raises(ModelFileError):
        ModelBundle.from_bytes(struct.pack("<Q", len(raw)) + raw + body)
    payload_bomb = resign(data, edit_header=lambda h: h["__metadata__"].update({"payload": "[" * 100000 + "]" * 100000}))
    with pytest.raises(ModelFileError):
        ModelBundle.from_bytes(payload_bomb)


def test_one_flipped_bit_anywhere_is_found(tiny_bundle_bytes) -> None:
    rng = np.random.default_rng(1)
    data = bytearray(tiny_bundle_bytes)
    (n,) = struct.unpack("<Q", bytes(data[:8]))
    positions = list(rng.integers(8 + n, len(data), size=40)) + list(rng.integers(8, 8 + n, size=20))
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << int(rng.integers(0, 8))
        with pytest.raises(ModelFileError):
            ModelBundle.from_bytes(bytes(flipped))


def test_two_hundred_mutated_files_never_give_a_different_verdict(tiny_bundle_bytes, probe) -> None:
    intact = _verdicts(ModelBundle.from_bytes(tiny_bundle_bytes), probe)
    rng = np.random.default_rng(2)
    data = tiny_bundle_bytes
    refused = same = 0
    for i in range(200):
        kind = i % 4
        m = bytearray(data)
        if kind == 0:  # random byte overwrites
            for pos in rng.integers(0, len(m), size=int(rng.integers(1, 6))):
                m[pos] = int(rng.integers(0, 256))
        elif kind == 1:  # truncation
            m = m[: int(rng.integers(0, len(m)))]
        elif kind == 2:  # a block of zeros
            start = int(rng.integers(0, len(m)))
            m[start : start + int(rng.integers(1, 4096))] = b"\0" * len(m[start : start + 4096])
        else:  # duplicated or dropped middle
            a, b = sorted(int(x) for x in rng.integers(0, len(m), size=2))
            m = m[:a] + m[b:] if i % 8 == 3 else m[:b] + m[a:]
        try:
            bundle = ModelBundle.from_bytes(bytes(m))
        except ModelFileError:
            refused += 1
            continue
        assert _verdicts(bundle, probe) == intact  # opened: then it must judge exactly as before
        same += 1
    assert refused + same == 200 and refused >= 190


def test_an_older_model_without_a_hash_still_opens_and_says_so(tiny_bundle) -> None:
    header, body = _split(tiny_bundle.to_bytes())
    header["__metadata__"].pop("sha256")
    header["__metadata__"]["schema_version"] = "1"
    old = ModelBundle.from_bytes(_join(header, body))
    assert not old.integrity_checked and "unchecked" in old.describe()["integrity"]
    # a format-2 file without its hash is refused
    header["__metadata__"]["schema_version"] = "2"
    with pytest.raises(ModelFileError, match="integrity"):
        ModelBundle.from_bytes(_join(header, body))


def test_a_huge_file_is_refused_before_it_is_read(tmp_path) -> None:
    big = tmp_path / "huge.bgm"
    with open(big, "wb") as fh:  # sparse: no disk space used
        fh.truncate(3 * 1024**3)
    with pytest.raises(ModelFileError, match="larger than any"):
        ModelBundle.load(big)


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_named_pipe_is_not_read_as_a_model(tmp_path) -> None:
    fifo = tmp_path / "model.bgm"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        ModelBundle.load(fifo)


def test_a_corrupt_bundled_demo_model_gives_no_green_tick(tmp_path) -> None:
    """The reproduction of the report: one NaN in gallery/spreads of the demo model."""
    from banknote_guard.resources import demo_model_path

    data = bytearray(demo_model_path().read_bytes())
    header, body = _split(bytes(data))
    start, _ = header["gallery/spreads"]["data_offsets"]
    (n,) = struct.unpack("<Q", bytes(data[:8]))
    dtype = {"F64": "<f8", "F32": "<f4"}[header["gallery/spreads"]["dtype"]]
    size = np.dtype(dtype).itemsize
    data[8 + n + start : 8 + n + start + size] = np.array([np.nan], dtype=dtype).tobytes()
    path = tmp_path / "nan.bgm"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        ModelBundle.load(path)
