"""A desk of a cash centre: its own SQLite file as an outbox, sent on to the shared PostgreSQL server.

Every note is first committed to the desk's SQLite file, so verifying never waits for, nor depends on,
the network. After a write (at most once a second; writes in between are sent together a moment
later, from a background thread), and whenever :meth:`StationHistory.sync` is called, the events the
server has not acknowledged yet are sent in order, a page per transaction; the desk then moves its
cursor (``sync_state``) past them. A page that was sent but not acknowledged (connection lost, desk
switched off) is simply sent again: the server keeps a record or review once, by its UUID, so every
note arrives exactly once however often it is sent.

While the server cannot be reached the desk works on: writes go to the outbox, reads come from the
outbox (its own notes), :meth:`status` says so, and a new attempt is made after :data:`RETRY_S`
seconds (or at once on an explicit :meth:`sync`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from banknote_guard.history.errors import HistoryUnavailableError, RecordNotFoundError
from banknote_guard.history.location import default_history_path, redact
from banknote_guard.history.records import BatchInfo, ChainReport, NoteRecord, Review, SyncReport
from banknote_guard.history.sqlite import SQLiteHistory
from banknote_guard.history.store import History, TimeLike

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Seconds between attempts to reach a server that did not answer.
RETRY_S = 30.0
#: Events sent per server transaction.
PAGE = 100
#: After a write, what waits is sent at once if nothing was sent for this long (seconds), else a moment
#: later in the background, together with whatever else was written meanwhile.
PUSH_INTERVAL_S = 1.0


class StationHistory(History):
    """A desk's history: an outbox file plus the server (see the module docstring).

    Args:
        url: the server, ``postgresql://user:password@host/database``.
        outbox: the desk's SQLite file (default: the default history file of this user).
        retry_s: seconds to wait before trying an unreachable server again.
        connect_timeout_s: seconds to wait for the server to answer.
        push_interval_s: writes closer together than this are sent together (see :data:`PUSH_INTERVAL_S`).
    """

    kind = "station"

    def __init__(self, url: str, outbox: str | Path | None = None, *, retry_s: float = RETRY_S,
                 connect_timeout_s: float = 5.0, push_interval_s: float = PUSH_INTERVAL_S) -> None:
        self.url = url
        self.local = SQLiteHistory(outbox if outbox is not None else default_history_path())
        self.location = f"{redact(url)} (outbox {self.local.location})"
        self.retry_s = retry_s
        self.connect_timeout_s = connect_timeout_s
        self._server: Any = None
        self._next_try = 0.0
        self._lock = threading.RLock()
        self.offline_reason: str | None = None
        self.push_interval_s = push_interval_s
        self._last_push = -1e9
        self._timer: threading.Timer | None = None
        self.sync()

    # --- the server ------------------------------------------------------------------------

    def _reach(self, force: bool = False) -> Any:
        """The server store, or None while it cannot be reached (then ``offline_reason`` says why)."""
        from banknote_guard.history.server import ServerHistory

        if self._server is not None:
            return self._server
        if not force and time.monotonic() < self._next_try:
            return None
        try:
            self._server = ServerHistory(self.url, connect_timeout_s=self.connect_timeout_s)
        except HistoryUnavailableError as exc:
            self._offline(str(exc))
            return None
        self.offline_reason = None
        return self._server

    def _offline(self, reason: str) -> None:
        if self.offline_reason != reason:
            log.warning("history server offline: %s", reason)
        self.offline_reason = reason
        self._next_try = time.monotonic() + self.retry_s
        if self._server is not None:
            try:
                self._server.close()
            except Exception:  # noqa: BLE001 - dropping a broken connection pool
                pass
            self._server = None

    @property
    def online(self) -> bool:
        return self._server is not None and self.offline_reason is None

    def sync(self, *, force: bool = True) -> SyncReport:
        """Send every waiting event to the server now; never raises for an unreachable server."""
        with self._lock:
            server = self._reach(force=force)
            if server is None:
                return SyncReport(online=False, waiting=self._waiting(), error=self.offline_reason)
            sent = new = 0
            self._last_push = time.monotonic()
            try:
                target = server.history_id
                while True:
                    events = self.local.events_after(self.local.sync_cursor(target), PAGE)
                    if not events:
                        break
                    records = [self.local.get(s) for _, kind, s in events if kind == "record"]
                    reviews = [self.local.review_by_id(s) for _, kind, s in events if kind == "review"]
                    new += server.receive(records, reviews)
                    self.local.set_sync_cursor(target, events[-1][0])
                    sent += len(events)
            except HistoryUnavailableError as exc:
                self._offline(str(exc))
                return SyncReport(online=False, sent=sent, new_on_server=new, waiting=self._waiting(),
                                  error=self.offline_reason)
            return SyncReport(online=True, sent=sent, new_on_server=new, waiting=0)

    def _waiting(self) -> int:
        server = self._server
        if server is not None:
            return self.local.waiting(server.history_id)
        # not connected: count what was never acknowledged by any server this desk has sent to
        with self.local._reading() as ex:  # noqa: SLF001 - the outbox is this class's own file
            rows = ex.rows("SELECT MAX(last_seq) FROM sync_state")
            cursor = int(rows[0][0] or 0) if rows else 0
            return int(ex.rows("SELECT COUNT(*) FROM events WHERE seq > :s", {"s": cursor})[0][0])

    def _read(self, fn: Callable[[History], T]) -> T:
        """Read from the server when it is reached (after sending what waits), else from the outbox."""
        with self._lock:
            report = self.sync(force=False)
            if report.online and self._server is not None:
                try:
                    return fn(self._server)
                except HistoryUnavailableError as exc:
                    self._offline(str(exc))
            return fn(self.local)

    def status(self) -> str:
        with self._lock:
            waiting = self._waiting()
            if self.online:
                return f"server {redact(self.url)} (connected; {waiting} item(s) waiting to be sent)"
            return (f"server {redact(self.url)} NOT REACHED ({self.offline_reason}); this desk works on its "
                    f"outbox {self.local.location}, {waiting} item(s) waiting to be sent")

    # --- writing ---------------------------------------------------------------------------

    def _after_write(self) -> None:
        with self._lock:
            wait = self._last_push + self.push_interval_s - time.monotonic()
            if wait > 0:
                if self._timer is None:  # send a moment later, with what else is written meanwhile
                    self._timer = threading.Timer(wait, self._timed_push)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._push_quietly()

    def _timed_push(self) -> None:
        with self._lock:
            self._timer = None
            if self.local._conn is None:  # noqa: SLF001 - closed meanwhile
                return
        self._push_quietly()

    def _push_quietly(self) -> None:
        try:
            self.sync(force=False)
        except Exception:  # noqa: BLE001 - the note is safe in the outbox; sending is retried later
            log.exception("sending the outbox failed")

    def add(self, record: NoteRecord) -> bool:
        new = self.local.add(record)
        self._after_write()
        return new

    def add_many(self, records: Iterable[NoteRecord]) -> int:
        n = self.local.add_many(records)
        self._after_write()
        return n

    def review(self, review: Review) -> None:
        with self._lock:
            try:
                self.local.get(review.record_id, with_images=False)
            except RecordNotFoundError:
                # a note verified at another desk: copy it from the server into the outbox first
                record = self._read(lambda h: h.get(review.record_id))
                self.local.add(record)
            self.local.review(review)
        self._after_write()

    # --- reading ---------------------------------------------------------------------------

    def get(self, record_id: str, *, with_images: bool = True) -> NoteRecord:
        try:
            return self._read(lambda h: h.get(record_id, with_images=with_images))
        except RecordNotFoundError:
            return self.local.get(record_id, with_images=with_images)

    def find(self, id_prefix: str, *, with_images: bool = True) -> NoteRecord:
        try:
            return self._read(lambda h: h.find(id_prefix, with_images=with_images))
        except RecordNotFoundError:
            return self.local.find(id_prefix, with_images=with_images)

    def query(self, **filters: Any) -> list[NoteRecord]:  # type: ignore[override]
        return self._read(lambda h: h.query(**filters))

    def reviews(self, record_id: str | None = None) -> list[Review]:
        return self._read(lambda h: h.reviews(record_id))

    def batches(self, *, since: TimeLike = None, until: TimeLike = None) -> list[BatchInfo]:
        return self._read(lambda h: h.batches(since=since, until=until))

    def values(self, column: str) -> list[str]:
        return self._read(lambda h: h.values(column))

    def verify_chain(self, *, check_images: bool = True) -> ChainReport:
        """The desk's outbox chain, then (when reached) the server's; the first problem of either."""
        local = self.local.verify_chain(check_images=check_images)
        if not local.ok:
            return local
        with self._lock:
            self.sync(force=True)
            server = self._server
            if server is None:
                local.location += f"; the server {redact(self.url)} was not reached and not checked"
                return local
        remote = server.verify_chain(check_images=check_images)
        if not remote.ok:
            return remote
        return ChainReport(ok=True, checked=local.checked + remote.checked, location=f"{self.local.location} and "
                           f"{remote.location}", head=remote.head)

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._server is not None or time.monotonic() >= self._next_try:
                self.sync(force=False)
            if self._server is not None:
                self._server.close()
                self._server = None
            self.local.close()


