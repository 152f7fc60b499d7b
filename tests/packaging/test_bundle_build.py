"""The frozen station bundle: built from this checkout by the one script, it runs with no Python
environment of its own, verifies a genuine and a counterfeit sample note, opens the desktop
application, explains its demo, and stays within its size limits.

One build (several minutes on two cores; the first run also sets up the build environment
.venv-bundle); every check then runs the built programs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENUINE, COUNTERFEIT = "KRT_10_back_genuine.jpg", "KRT_10_back_counterfeit-high_quality.jpg"
#: The archive a station downloads (the target of the issue that asked for the bundle).
ARCHIVE_LIMIT_MB = 300
#: The unpacked folder: measured 399-401 MB (OpenCV with its codecs and BLAS is 155 MB of it, Qt 84 MB);
#: the limit catches the training stack or a second copy of a large library creeping in.
FOLDER_LIMIT_MB = 450

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundle built and checked here is the Linux one"),
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    env = dict(os.environ, BANKNOTE_GUARD_DIST=str(out / "dist"), BANKNOTE_GUARD_BUILD_DIR=str(out / "build"))
    run = subprocess.run(["bash", str(ROOT / "packaging" / "build_bundle.sh")], capture_output=True, text=True,
                         env=env, timeout=3300)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    return out / "dist" / "banknote-guard"


def bare(args: list[str], cwd: Path, *, display: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a program of the bundle with a bare environment: no Python, no virtual environment, no
    project folder; only a PATH with the system tools, a home and a locale (and a display if given)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8", **(display or {})}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


def _mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


@pytest.mark.timeout(3600)
def test_the_bundle_is_complete_and_small_enough(bundle) -> None:
    names = {p.name.lower() for p in bundle.rglob("*")}
    assert not {n for n in names if n.startswith(("torch", "libtorch", "libcudnn", "libcublas", "libcudart", "sklearn", "scipy"))}
    assets = bundle / "_internal" / "assets"
    assert (assets / "demo_model.bgm").is_file() and (assets / "sample_notes" / GENUINE).is_file()
    assert (assets / "icons" / "banknote_guard_256.png").is_file()
    assert (bundle / "_internal" / "LICENSE").is_file() and (bundle / "_internal" / "THIRD_PARTY_NOTICES.md").is_file()
    licences = bundle / "_internal" / "licenses"
    assert {"LGPL-3.0.txt", "GPL-3.0.txt", "LGPL-2.1.txt"} <= {p.name for p in licences.iterdir()}
    for package in ("onnxruntime", "opencv-python-headless", "numpy", "pillow", "Python"):
        assert any((licences / package).rglob("*")), package
    assert os.access(bundle / "banknote-guard-gui", os.X_OK)
    folder = _mb(bundle)
    (archive,) = bundle.parent.glob("banknote-guard-*-linux-*.tar.gz")
    packed = archive.stat().st_size / 2**20
    print(f"bundle: {folder:.0f} MB unpacked, {packed:.0f} MB as {archive.name}")
    assert packed <= ARCHIVE_LIMIT_MB and folder <= FOLDER_LIMIT_MB


@pytest.mark.timeout(3600)
def test_the_bundle_starts_and_verifies_a_genuine_and_a_counterfeit_note(bundle, tmp_path) -> None:
    exe = str(bundle / "banknote-guard")
    start = time.perf_counter()
    version = bare([exe, "--version"], tmp_path)
    started = time.perf_counter() - start
    assert version.returncode == 0 and version.stdout.strip() == "banknote-guard 0.1.0", version.stderr
    assets = bundle / "_internal" / "assets"
    out = tmp_path / "results.json"
    start = time.perf_counter()
    run = bare([exe, "verify", str(assets / "demo_model.bgm"), str(assets / "sample_notes" / GENUINE),
                str(assets / "sample_notes" / COUNTERFEIT), "--json", str(out)], tmp_path)
    verified = time.perf_counter() - start
    assert run.returncode == 1, run.stderr  # 1: a note is suspect
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["model"]["network_runtime"] == "onnxruntime"
    assert [(Path(r["path"]).name, r["verdict"], r["denomination"]) for r in doc["results"]] == [
        (GENUINE, "genuine", "KRT/10"), (COUNTERFEIT, "suspect", "KRT/10")]
    print(f"bundle: --version in {started:.2f} s, two notes verified in {verified:.2f} s (start included)")


@pytest.mark.timeout(3600)
def test_the_bundle_explains_itself_without_a_display(bundle, tmp_path) -> None:
    exe = str(bundle / "banknote-guard")
    gui = bare([exe], tmp_path)  # no arguments: the desktop application, which needs a display
    assert gui.returncode == 2 and "No display found" in gui.stderr and "banknote-guard demo" in gui.stderr
    demo = bare([exe, "demo"], tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "verification station" in demo.stdout and "16 file(s):" in demo.stdout
    train = bare([exe, "train", str(tmp_path), "--out", str(tmp_path / "m.bgm")], tmp_path)
    assert train.returncode == 2 and "pip install 'banknote-guard[train]'" in train.stderr
    assert len(train.stderr.strip().splitlines()) == 1


@pytest.mark.timeout(3600)
def test_the_appimage_recipe_makes_a_working_appdir(bundle, tmp_path) -> None:
    appdir = tmp_path / "AppDir"
    env = dict(os.environ, BANKNOTE_GUARD_APPDIR=str(appdir), BANKNOTE_GUARD_DIST=str(tmp_path), PATH="/usr/bin:/bin")
    run = subprocess.run(["bash", str(ROOT / "packaging" / "linux" / "build_appimage.sh"), str(bundle)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    for name in ("AppRun", "banknote-guard.desktop", "banknote-guard.png", ".DirIcon",
                 "usr/share/icons/hicolor/48x48/apps/banknote-guard.png", "usr/lib/banknote-guard/banknote-guard"):
        assert (appdir / name).exists(), name
    assets = appdir / "usr" / "lib" / "banknote-guard" / "_internal" / "assets"
    verify = bare([str(appdir / "AppRun"), "verify", str(assets / "demo_model.bgm"),
                   str(assets / "sample_notes" / GENUINE), "--quiet"], tmp_path)
    assert verify.returncode == 0, verify.stderr  # 0: every note genuine
    if shutil.which("appimagetool") is None:
        assert "appimagetool is not on PATH" in run.stderr  # and it says so


@pytest.mark.timeout(3600)
def test_the_bundle_opens_the_desktop_application_on_the_verify_page(bundle, tmp_path) -> None:
    from PIL import Image

    exe = str(bundle / "banknote-guard-gui")
    shot = tmp_path / "offscreen.png"
    run = bare([exe, "--screenshot", str(shot), "--samples", "--size", "1280x720"], tmp_path,
               display={"QT_QPA_PLATFORM": "offscreen"}, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1280, 720)
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed: the X11 (xcb) window system of the bundle was not tried")
    shot = tmp_path / "x11.png"
    run = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", exe, "--screenshot", str(shot), "--samples",
                          "--size", "1280x720"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"})
    assert run.returncode == 0, run.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1280, 720)
