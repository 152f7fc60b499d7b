"""What can go wrong while capturing: each a :class:`~banknote_guard.errors.BanknoteGuardError` whose
text is one line an operator can act on (the GUI shows it, the command line prints it)."""

from __future__ import annotations

from banknote_guard.errors import BanknoteGuardError


class CaptureError(BanknoteGuardError):
    """A camera, scanner or watched folder could not deliver pictures."""


class CameraError(CaptureError):
    """A camera or video could not be opened, or stopped sending pictures (unplugged, stream ended,
    damaged video file)."""


class ScannerError(CaptureError):
    """A document scanner could not scan."""


class ScannerUnavailableError(ScannerError):
    """Scanning software (SANE's ``scanimage``) is not installed on this computer."""


class ScannerNotFoundError(ScannerError):
    """No scanner of that name is connected (or none at all)."""


class ScannerBusyError(ScannerError):
    """The scanner is in use by another program, or still busy with the last scan."""


class ScannerTimeoutError(ScannerError):
    """The scanner did not finish in time."""


class WatchError(CaptureError):
    """A folder cannot be watched (missing, not a folder, or already watched by another program)."""
