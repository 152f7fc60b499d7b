"""Errors of the verification history (all :class:`~banknote_guard.errors.BanknoteGuardError`, readable)."""

from __future__ import annotations

from pathlib import Path

from banknote_guard.errors import BanknoteGuardError


class HistoryError(BanknoteGuardError):
    """The history could not be opened, read or written; the message says why and what to do."""


class HistoryDamagedError(HistoryError):
    """The history file failed its integrity check. It was moved aside (``aside``), never overwritten."""

    def __init__(self, path: str | Path, aside: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.aside = Path(aside)
        self.problem = problem
        super().__init__(
            f"The history file {str(path)!r} is damaged ({problem}). It was moved to {str(aside)!r} and kept "
            "there for inspection; nothing was deleted. A new, empty history is started the next time one is "
            "opened there."
        )


class HistoryUnavailableError(HistoryError):
    """The history server cannot be reached (network, server down, wrong address or password)."""


class HistoryVersionError(HistoryError):
    """The history was written by a newer version of the application; it is left untouched."""


class RecordNotFoundError(HistoryError, KeyError):
    """No record (or more than one) has the id asked for."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "record not found"
