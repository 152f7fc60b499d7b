"""Where the bundled assets (demo model, sample notes, icons) are.

Looked up in this order: ``$BANKNOTE_GUARD_ASSETS``; inside a frozen station bundle (PyInstaller), the
``assets`` folder unpacked beside the program's libraries; else ``assets/`` of the source checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Sizes (pixels) of the PNG application icons in ``assets/icons`` (the SVG is the master).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICON_NAME = "banknote_guard"


def is_frozen() -> bool:
    """Whether this is the frozen station bundle (PyInstaller) rather than a Python installation."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def assets_dir() -> Path:
    """The assets folder (see the module docstring for where it is looked for)."""
    env = os.environ.get("BANKNOTE_GUARD_ASSETS")
    if env:
        return Path(env)
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS")) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def demo_model_path() -> Path:
    return assets_dir() / "demo_model.bgm"


def sample_notes_dir() -> Path:
    return assets_dir() / "sample_notes"


def icon_path(size: int | None = None) -> Path:
    """The application icon: the SVG master, or the PNG of ``size`` pixels (one of :data:`ICON_SIZES`)."""
    folder = assets_dir() / "icons"
    if size is None:
        return folder / f"{ICON_NAME}.svg"
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px icon; sizes: {', '.join(map(str, ICON_SIZES))}")
    return folder / f"{ICON_NAME}_{size}.png"


def icon_files() -> list[Path]:
    """The PNG icons that are present, smallest first (a window icon holds them all)."""
    return [p for p in (icon_path(size) for size in ICON_SIZES) if p.is_file()]
