from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest

from banknote_guard.errors import ModelFileError
from banknote_guard.verify import bundle as bundle_mod
from banknote_guard.verify.bundle import FORMAT_MARKER, ModelBundle
from banknote_guard.verify.verifier import verify_paths


def _same_results(a, b) -> None:
    assert [r.path for r in a] == [r.path for r in b]
    for x, y in zip(a, b):
        assert x.to_json() | {"seconds": None} == y.to_json() | {"seconds": None}


def test_round_trip_gives_identical_verdicts(tiny_bundle, pattern_dataset, tmp_path) -> None:
    root, _ = pattern_dataset
    path = tiny_bundle.save(tmp_path / "m.bgm")
    assert tiny_bundle.path == path
    loaded = ModelBundle.load(path)
    assert loaded.path == path
    assert loaded.denominations == tiny_bundle.denominations == ["TST/0", "TST/1", "TST/2"]
    assert loaded.model_config == tiny_bundle.model_config
    assert loaded.calibration.thresholds == tiny_bundle.calibration.thresholds
    for k, v in tiny_bundle.state_dict.items():
        assert v.dtype == loaded.state_dict[k].dtype and np.array_equal(v, loaded.state_dict[k])
    _same_results(verify_paths(tiny_bundle, [root]), verify_paths(loaded, [root]))


def test_describe_has_what_the_status_bar_needs(tiny_bundle) -> None:
    d = tiny_bundle.describe()
    for key in ("schema_version", "app_version", "created", "backbone", "denominations", "false_alarm_rate",
                "svm_kernel", "metrics"):
        assert key in d
    assert d["denominations"] == tiny_bundle.denominations
    json.dumps(d, allow_nan=False)


def test_embedder_is_built_once(tiny_bundle) -> None:
    assert tiny_bundle.embedder is tiny_bundle.embedder


def test_foreign_safetensors_file(tmp_path) -> None:
    from safetensors.numpy import save_file

    p = tmp_path / "other.bgm"
    save_file({"w": np.zeros(3, np.float32)}, str(p), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="not a banknote_guard model.*another program"):
        ModelBundle.load(p)


def test_truncated_file(tiny_bundle_bytes, tmp_path) -> None:
    p = tmp_path / "cut.bgm"
    p.write_bytes(tiny_bundle_bytes[: len(tiny_bundle_bytes) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        ModelBundle.load(p)
    p.write_bytes(tiny_bundle_bytes[:100])
    with pytest.raises(ModelFileError):
        ModelBundle.load(p)


@pytest.mark.parametrize("content", [b"", b"abc", bytes(range(256)) * 40, b"\xff" * 8 + b"{}"])
def test_random_bytes_and_empty_files(content: bytes, tmp_path) -> None:
    p = tmp_path / "junk.bgm"
    p.write_bytes(content)
    with pytest.raises(ModelFileError):
        ModelBundle.load(p)


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        ModelBundle.load(tmp_path / "nope.bgm")
    with pytest.raises(ModelFileError, match="folder"):
        ModelBundle.load(tmp_path)


def test_newer_schema_asks_to_upgrade(tiny_bundle, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(bundle_mod, "SCHEMA_VERSION", 99)
    data = tiny_bundle.to_bytes()
    monkeypatch.undo()
    p = tmp_path / "future.bgm"
    p.write_bytes(data)
    with pytest.raises(ModelFileError, match="newer version.*upgrade"):
        ModelBundle.load(p)


def test_damaged_payload(tiny_bundle_bytes, tmp_path) -> None:
    (n,) = struct.unpack("<Q", tiny_bundle_bytes[:8])
    header = json.loads(tiny_bundle_bytes[8 : 8 + n])
    assert header["__metadata__"]["format"] == FORMAT_MARKER
    payload = json.loads(header["__metadata__"]["payload"])
    del payload["gallery"]
    header["__metadata__"]["payload"] = json.dumps(payload)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    p = tmp_path / "damaged.bgm"
    p.write_bytes(struct.pack("<Q", len(raw)) + raw + tiny_bundle_bytes[8 + n :])
    with pytest.raises(ModelFileError, match="damaged"):
        ModelBundle.load(p)


class _Trap:
    """Unpickling this object would create a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_is_never_executed(tmp_path) -> None:
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.bgm"
    p.write_bytes(pickle.dumps(_Trap(str(marker))))
    with pytest.raises(ModelFileError, match="not a banknote_guard model"):
        ModelBundle.load(p)
    assert not marker.exists()


def test_torch_checkpoint_is_never_unpickled(tmp_path) -> None:
    import torch

    marker = tmp_path / "pwned"
    p = tmp_path / "evil.bgm"
    torch.save({"x": _Trap(str(marker))}, p)
    with pytest.raises(ModelFileError):
        ModelBundle.load(p)
    assert not marker.exists()


def test_failed_save_leaves_the_old_file_intact(tiny_bundle, tmp_path, monkeypatch) -> None:
    p = tiny_bundle.save(tmp_path / "m.bgm")
    before = p.read_bytes()
    tiny_bundle.summary["note"] = "changed"

    def half_then_fail(path, data, chunk=1 << 20) -> None:
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError("simulated crash mid-write")

    monkeypatch.setattr(bundle_mod, "_write_file", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        tiny_bundle.save(p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.bgm"]
    ModelBundle.load(p)
