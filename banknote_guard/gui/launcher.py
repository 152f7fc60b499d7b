"""The options of the desktop application and the display check, without Qt.

Shared by ``banknote-guard gui`` (:mod:`banknote_guard.commands.gui`) and the ``banknote-guard-gui``
launcher (:func:`banknote_guard.gui.app.main`). Importing this module loads no Qt, so the command line
can build its parser without it.
"""

from __future__ import annotations

import argparse
import os
import sys

from banknote_guard.errors import BanknoteGuardError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the desktop application (``banknote-guard gui`` and the ``banknote-guard-gui`` launcher)."""
    parser.add_argument("--model", metavar="PATH", help="open this model file instead of the one in the settings")
    parser.add_argument("--dataset", metavar="DIR", help="open this dataset folder on the Datasets page")
    parser.add_argument("--screenshot", metavar="OUT.png", help="save a picture of the window once work has finished, then exit")
    parser.add_argument("--page", default="verify", help="page to show: datasets, training, enrollment, verify, settings, ...")
    parser.add_argument("--samples", action="store_true", help="verify the bundled sample notes at start (Verify page)")
    parser.add_argument("--size", default=None,
                        help="window size WIDTHxHEIGHT (default: the last size, or 1280x800 fitted to the screen)")


def check_display(environ: dict[str, str] | None = None, platform: str | None = None) -> None:
    """Raise a readable error when Qt would find no screen to open a window on (Linux without X or Wayland).

    Without this check Qt aborts the process with a core dump and a message about platform plugins.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return
    raise BanknoteGuardError(
        "No display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop application cannot "
        "open a window. On a machine without a screen run 'banknote-guard demo' for the headless pipeline, "
        "or take a picture of the window with QT_QPA_PLATFORM=offscreen banknote-guard gui --screenshot OUT.png."
    )
