"""Settings persist through QSettings and the recent list stays short and free of duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from banknote_guard.gui.settings import MAX_RECENT, AppSettings

pytestmark = pytest.mark.gui


def test_values_survive_a_restart(tmp_path: Path) -> None:
    s = AppSettings.from_file(tmp_path / "s.ini")
    assert s.threshold_scale == 1.0 and s.alert_sound is True and s.model_path == ""
    s.model_path = tmp_path / "m.bgm"
    s.threshold_scale = 0.8
    s.false_alarm_rate = 0.02
    s.operator_name = "Ana"
    s.camera_device = "0"
    s.scanner_device = "Canon"
    s.alert_sound = False
    s.sync()
    again = AppSettings.from_file(tmp_path / "s.ini")
    assert again.model_path == str(tmp_path / "m.bgm")
    assert again.threshold_scale == pytest.approx(0.8)
    assert again.false_alarm_rate == pytest.approx(0.02)
    assert (again.operator_name, again.camera_device, again.scanner_device) == ("Ana", "0", "Canon")
    assert again.alert_sound is False


def test_recent_files_newest_first_without_duplicates(tmp_path: Path) -> None:
    s = AppSettings.from_file(tmp_path / "s.ini")
    for i in range(MAX_RECENT + 3):
        s.add_recent_file(f"/notes/{i}.png")
    s.add_recent_file("/notes/5.png")
    recent = s.recent_files()
    assert recent[0] == "/notes/5.png"
    assert len(recent) == MAX_RECENT and len(set(recent)) == MAX_RECENT
    s.clear_recent_files()
    assert s.recent_files() == []


def test_a_damaged_value_falls_back_to_the_default(tmp_path: Path) -> None:
    s = AppSettings.from_file(tmp_path / "s.ini")
    s.qsettings.setValue("model/threshold_scale", "not a number")
    assert s.threshold_scale == 1.0
