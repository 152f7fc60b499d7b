"""The history's front: :class:`History` (what every store can do) and :func:`open_history`.

Three stores share the one interface:

* a **SQLite file** (:class:`~banknote_guard.history.sqlite.SQLiteHistory`), the default: one desk,
  no server, in the user's data folder or a file you name;
* a **PostgreSQL server** (:class:`~banknote_guard.history.server.ServerHistory`), the history of a
  whole cash centre;
* a **desk of a cash centre** (:class:`~banknote_guard.history.station.StationHistory`), what
  ``open_history("postgresql://...")`` returns: every note goes first into the desk's own SQLite file
  (its outbox) and from there to the server whenever the server can be reached, so a desk keeps
  working through a network outage and loses nothing. Re-sending is harmless: records are known by
  their UUIDs.

Records are append-only: a review adds an event, it never edits a verdict. Every record and review is
an event in a hash chain (each event holds the hash of the one before); :meth:`History.verify_chain`
finds the first broken link after any tampering.
"""

from __future__ import annotations

import abc
import datetime as _dt
from pathlib import Path
from typing import Iterable, Sequence

from banknote_guard.history.records import BatchInfo, ChainReport, NoteRecord, Review, SyncReport

#: A time filter: ISO 8601 text (UTC unless it names a zone), a datetime or a date.
TimeLike = str | _dt.datetime | _dt.date | None


class History(abc.ABC):
    """A verification history. Use it as a context manager, or call :meth:`close`.

    Attributes:
        location: where it is, for people (a file path, or a server address without its password).
        kind: "sqlite", "postgresql" or "station".
    """

    location: str = ""
    kind: str = ""

    # --- writing ----------------------------------------------------------------------------

    @abc.abstractmethod
    def add(self, record: NoteRecord) -> bool:
        """Store one record, durably, with its audit event; False when it was already there (same id).

        Raises HistoryError when it cannot be stored, or when a *different* record has the same id.
        """

    @abc.abstractmethod
    def add_many(self, records: Iterable[NoteRecord]) -> int:
        """Store several records in one transaction (all or none); returns how many were new."""

    @abc.abstractmethod
    def review(self, review: Review) -> None:
        """Add an operator's decision on a record (an event; the record itself never changes).

        Raises RecordNotFoundError when the record is not in the history.
        """

    # --- reading ----------------------------------------------------------------------------

    @abc.abstractmethod
    def get(self, record_id: str, *, with_images: bool = True) -> NoteRecord:
        """The record with this id (raises RecordNotFoundError)."""

    @abc.abstractmethod
    def find(self, id_prefix: str, *, with_images: bool = True) -> NoteRecord:
        """The one record whose id starts with ``id_prefix`` (at least 4 characters; raises
        RecordNotFoundError when none or several match)."""

    @abc.abstractmethod
    def query(
        self,
        *,
        batch: str | None = None,
        since: TimeLike = None,
        until: TimeLike = None,
        verdict: str | Sequence[str] | None = None,
        denomination: str | None = None,
        operator: str | None = None,
        station: str | None = None,
        limit: int | None = None,
        with_images: bool = True,
        newest_first: bool = False,
    ) -> list[NoteRecord]:
        """Records matching every filter given, oldest first (``newest_first`` for the latest ``limit``).

        ``since`` is inclusive and ``until`` exclusive; ``verdict`` "error" selects unreadable images.
        ``with_images=False`` leaves the stored pictures out (lists, summaries).
        """

    @abc.abstractmethod
    def reviews(self, record_id: str | None = None) -> list[Review]:
        """Reviews of one record (or of all records), oldest first."""

    @abc.abstractmethod
    def batches(self, *, since: TimeLike = None, until: TimeLike = None) -> list[BatchInfo]:
        """Every batch (optionally those with records in a time span), oldest first."""

    @abc.abstractmethod
    def values(self, column: str) -> list[str]:
        """The distinct values of "denomination", "operator", "station" or "batch" (for filter lists)."""

    # --- audit and upkeep -------------------------------------------------------------------

    @abc.abstractmethod
    def verify_chain(self, *, check_images: bool = True) -> ChainReport:
        """Check the whole audit trail; reports the first broken link."""

    def sync(self) -> SyncReport | None:
        """Send a desk's outbox to the server now (None for a history without a server)."""
        return None

    def status(self) -> str:
        """One line for people: where the history is and, for a desk, whether the server is reached."""
        return self.location

    @abc.abstractmethod
    def close(self) -> None:
        """Release the file or the connections (a desk first tries once more to send its outbox)."""

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_history(location: str | Path | None = None, *, outbox: str | Path | None = None) -> History:
    """Open (creating when needed) a history.

    Args:
        location: None for the default file in the user's data folder (see
            :mod:`~banknote_guard.history.location`); a path for that SQLite file; a
            ``postgresql://user:password@host/database`` URL for a cash centre's server, reached
            through this desk's outbox.
        outbox: with a server URL, the desk's own SQLite file (default: the default history file).

    Raises:
        HistoryDamagedError: the file failed its integrity check; it was moved aside.
        HistoryVersionError: the history is from a newer version of the application.
        HistoryError: any other reason it cannot be opened (the message says which).
    """
    from banknote_guard.history.location import default_history_path, is_server_url

    if location is not None and is_server_url(str(location)):
        from banknote_guard.history.station import StationHistory

        return StationHistory(str(location), outbox=outbox)
    from banknote_guard.history.sqlite import SQLiteHistory

    if location is None or not str(location).strip():
        return SQLiteHistory(default_history_path())
    return SQLiteHistory(Path(location).expanduser())
