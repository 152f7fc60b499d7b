"""Every exception that banknote_guard raises on purpose.

All derive from :class:`BanknoteGuardError`, so a caller (the CLI, the GUI) can catch one type and show
``str(exc)`` to a person: messages are written to be read by an operator, not a developer.
"""

from __future__ import annotations

from pathlib import Path


class BanknoteGuardError(Exception):
    """Base class of all errors raised on purpose by banknote_guard."""


class ParameterError(BanknoteGuardError, ValueError):
    """A parameter has a value outside its allowed range.

    Use :func:`parameter_error` for the one message template of the project.
    """


def parameter_error(name: str, owner: str, expected: str, got: object) -> ParameterError:
    """Build the standard message: "The 'margin' parameter of QuadrupletLoss must be ... Got -0.2 instead."."""
    return ParameterError(f"The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead.")


class ImageLoadError(BanknoteGuardError):
    """An image file could not be turned into pixels. ``reason`` says why in a few words."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Cannot read image {str(path)!r}: {reason}")


class DatasetLayoutError(BanknoteGuardError):
    """A dataset folder does not follow DATASET/<CURRENCY>/<DENOMINATION>/{genuine,counterfeit}/."""

    def __init__(self, folder: str | Path, problem: str) -> None:
        self.folder = Path(folder)
        self.problem = problem
        super().__init__(
            f"{problem} (folder: {str(folder)!r}). Expected the layout "
            "DATASET/<CURRENCY>/<DENOMINATION>/genuine/*.jpg, with an optional "
            "DATASET/<CURRENCY>/<DENOMINATION>/counterfeit/ beside it."
        )


class ModelFileError(BanknoteGuardError):
    """A model file is missing, corrupt, truncated, foreign or from a newer version."""


class NotFittedError(BanknoteGuardError):
    """An estimator was used before ``fit``."""


class WeightsUnavailableError(BanknoteGuardError):
    """Pretrained weights were asked for but are not on this machine (nothing is downloaded)."""


class CancelledError(BanknoteGuardError):
    """Long work was cancelled through its :class:`~banknote_guard.progress.CancelToken`."""


class OutputError(BanknoteGuardError):
    """A file could not be written there (read-only folder, no permission, a folder of that name, ...).

    Nothing was overwritten. ``path`` is the file that was to be written and ``reason`` says why in a
    few words (both None when the error was built from a message alone).
    """

    def __init__(self, message: str, *, path: str | Path | None = None, reason: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        super().__init__(message)


class DiskFullError(OutputError):
    """A file could not be written because the disk is full (or the disk quota is used up); nothing was lost."""


class FileBusyError(BanknoteGuardError):
    """A file is being changed by another program (its lock was not free in time); try again later."""
