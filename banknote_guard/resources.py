"""Where the bundled assets (demo model, sample notes, icons) are."""

from __future__ import annotations

import os
from pathlib import Path


def assets_dir() -> Path:
    """The assets folder: $BANKNOTE_GUARD_ASSETS, else ``assets/`` of the source checkout."""
    env = os.environ.get("BANKNOTE_GUARD_ASSETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "assets"


def demo_model_path() -> Path:
    return assets_dir() / "demo_model.bgm"


def sample_notes_dir() -> Path:
    return assets_dir() / "sample_notes"
