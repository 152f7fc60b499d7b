"""Start-up pieces: the log file, the exception hook, the command line, a screenshot run."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from banknote_guard.cli import build_parser
from banknote_guard.gui.app import make_excepthook, setup_logging

pytestmark = pytest.mark.gui


def test_log_file_receives_records(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "logs")
    assert setup_logging(tmp_path / "logs") == path  # a second call adds no second handler
    logging.getLogger("banknote_guard.gui.test").warning("disk almost full")
    for h in logging.getLogger("banknote_guard").handlers:
        h.flush()
    assert "disk almost full" in path.read_text(encoding="utf-8")
    root = logging.getLogger("banknote_guard")
    for h in list(root.handlers):
        if getattr(h, "baseFilename", "") == str(path.resolve()):
            root.removeHandler(h)
            h.close()
    root.propagate = True


def test_excepthook_shows_a_readable_message_and_logs_the_traceback(qapp, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    hook = make_excepthook(tmp_path / "app.log")
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        with caplog.at_level(logging.ERROR, logger="banknote_guard.gui"):
            hook(type(exc), exc, exc.__traceback__)
    assert "Traceback" in caplog.text and "ZeroDivisionError" in caplog.text
    assert "Traceback" not in hook.last_message and "division by zero" in hook.last_message
    box = hook.last_box
    assert box.isVisible() and "Traceback" not in box.text() and "app.log" in box.informativeText()
    box.close()


def test_gui_command_is_registered() -> None:
    args = build_parser().parse_args(["gui", "--page", "training", "--screenshot", "x.png", "--model", "m.bgm"])
    assert (args.page, args.screenshot, args.model, args.samples) == ("training", "x.png", "m.bgm", False)
    assert args.func.__module__ == "banknote_guard.commands.gui"


def test_screenshot_run_from_the_command_line(tmp_path: Path) -> None:
    """``banknote-guard gui --screenshot`` opens the window, saves a picture and exits by itself."""
    out = tmp_path / "settings.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XDG_DATA_HOME=str(tmp_path / "data"), BANKNOTE_GUARD_ASSETS=str(tmp_path / "no-assets"))
    proc = subprocess.run(
        [sys.executable, "-m", "banknote_guard", "gui", "--page", "settings", "--screenshot", str(out), "--size", "1280x760"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as im:
        assert im.size == (1280, 760)
    assert (tmp_path / "data").exists()  # the log file went to the application-data folder
    bad = subprocess.run([sys.executable, "-m", "banknote_guard", "gui", "--page", "nowhere", "--screenshot", str(out)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "unknown page" in bad.stderr and "Traceback" not in bad.stderr
