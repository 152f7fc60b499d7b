"""Desktop integration: the icon (window, menus), the Linux desktop entry and its installer, the
recipes for AppImage, Windows and macOS, the licences they refer to."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_every_icon_size_is_there_and_square() -> None:
    from PIL import Image

    from banknote_guard.resources import ICON_SIZES, icon_files, icon_path

    assert icon_path().is_file() and "<svg" in icon_path().read_text(encoding="utf-8")
    assert [p.name for p in icon_files()] == [f"banknote_guard_{s}.png" for s in ICON_SIZES]
    for size, path in zip(ICON_SIZES, icon_files()):
        with Image.open(path) as im:
            assert im.size == (size, size) and im.mode == "RGBA"
            assert im.getpixel((0, 0))[3] == 0  # transparent corners: the tile is rounded
            assert im.getpixel((size // 2, size // 2))[3] == 255
    with pytest.raises(ValueError, match="sizes"):
        icon_path(17)
    ico = (ROOT / "assets" / "icons" / "banknote_guard.ico").read_bytes()
    assert ico[:4] == b"\0\0\1\0" and int.from_bytes(ico[4:6], "little") == 7


def test_the_application_window_has_the_icon(qapp) -> None:
    from banknote_guard.gui.app import create_application

    app = create_application()
    sizes = {(s.width(), s.height()) for s in app.windowIcon().availableSizes()}
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= sizes


def test_the_desktop_entry_is_valid() -> None:
    entry = PACKAGING / "linux" / "banknote-guard.desktop"
    text = entry.read_text(encoding="utf-8")
    fields = dict(line.split("=", 1) for line in text.splitlines()[1:] if "=" in line)
    assert text.startswith("[Desktop Entry]\n")
    assert fields["Type"] == "Application" and fields["Exec"] == "banknote-guard-gui"
    assert fields["Icon"] == "banknote-guard" and fields["Terminal"] == "false"
    if shutil.which("desktop-file-validate"):
        run = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert run.returncode == 0 and not run.stdout.strip(), run.stdout


def test_the_desktop_installer_puts_entry_and_icons_in_place_and_takes_them_away(tmp_path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    gui = bundle / "banknote-guard-gui"
    gui.write_text("#!/bin/sh\n", encoding="utf-8")
    gui.chmod(0o755)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "share"))
    script = PACKAGING / "linux" / "install_desktop.sh"
    run = subprocess.run(["bash", str(script), str(bundle)], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    entry = (tmp_path / "share" / "applications" / "banknote-guard.desktop").read_text(encoding="utf-8")
    assert f'Exec="{gui}"' in entry and f"TryExec={gui}" in entry
    icons = tmp_path / "share" / "icons" / "hicolor"
    assert (icons / "256x256" / "apps" / "banknote-guard.png").is_file()
    assert (icons / "scalable" / "apps" / "banknote-guard.svg").is_file()
    run = subprocess.run(["bash", str(script), "--uninstall"], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and not (tmp_path / "share" / "applications" / "banknote-guard.desktop").exists()
    assert not (icons / "256x256" / "apps" / "banknote-guard.png").exists()
    missing = subprocess.run(["bash", str(script), str(tmp_path / "nowhere")], capture_output=True, text=True, env=env)
    assert missing.returncode != 0


def test_the_shell_recipes_parse() -> None:
    for script in ("build_bundle.sh", "run.sh", "linux/build_appimage.sh", "linux/install_desktop.sh"):
        run = subprocess.run(["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True)
        assert run.returncode == 0, (script, run.stderr)


def test_the_windows_installer_script_names_files_that_exist() -> None:
    iss = (PACKAGING / "windows" / "banknote_guard.iss").read_text(encoding="utf-8")
    assert "banknote-guard-gui.exe" in iss and "{autopf}" in iss
    for rel in re.findall(r'(?:LicenseFile|SetupIconFile)=(\S+)', iss) + re.findall(r'Source: "(\.\.[^"*]+)"', iss):
        path = (PACKAGING / "windows" / rel.replace("\\", "/")).resolve()
        assert path.is_file(), rel
    assert '#define BundleDir "..\\..\\dist\\banknote-guard"' in iss


def test_the_macos_recipe_asks_for_the_camera() -> None:
    spec = (PACKAGING / "banknote_guard.spec").read_text(encoding="utf-8")
    note = (PACKAGING / "macos" / "README.md").read_text(encoding="utf-8")
    assert "NSCameraUsageDescription" in spec and "NSCameraUsageDescription" in note
    assert "com.apple.security.device.camera" in note


def test_the_licences_are_in_place() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    notices = (ROOT / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    for component in ("PySide6", "Qt", "LGPL", "OpenCV", "onnxruntime", "DejaVu", "EfficientNet-Lite0", "FFmpeg"):
        assert component in notices, component
    texts = {p.name: p.read_text(encoding="utf-8") for p in (PACKAGING / "licenses").glob("*.txt")}
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in texts["LGPL-3.0.txt"] and "Version 2.1" in texts["LGPL-2.1.txt"]
    assert "GNU GENERAL PUBLIC LICENSE" in texts["GPL-3.0.txt"]
