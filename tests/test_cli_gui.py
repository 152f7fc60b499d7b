"""The `gui` sub-command explains a missing display instead of letting Qt abort."""

from __future__ import annotations

import pytest

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.gui.launcher import check_display


def test_no_display_on_linux_is_a_readable_error() -> None:
    with pytest.raises(BanknoteGuardError, match="No display found.*banknote-guard demo"):
        check_display({}, "linux")


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"DISPLAY": ":0"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({}, "win32"),
        ({}, "darwin"),
    ],
)
def test_a_display_or_platform_choice_passes(env: dict[str, str], platform: str) -> None:
    check_display(env, platform)
