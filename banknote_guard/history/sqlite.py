"""The history in one SQLite file: the default store of a desk, and a desk's outbox for a server.

Opening: the folder is created; a file on a network share is refused (SQLite's write-ahead log needs
shared memory that network file systems do not give; see :mod:`~banknote_guard.history.location`);
``journal_mode=WAL``, ``synchronous=FULL`` (a committed note survives a power cut), ``foreign_keys=ON``
and a busy timeout (another program writing the same file is waited for); then ``PRAGMA quick_check``.
A file that fails it (or is not a database at all) is moved aside with its ``-wal``/``-shm`` files and
reported (:class:`~banknote_guard.history.errors.HistoryDamagedError`), never replaced in place.

Schema versions live in ``PRAGMA user_version``; :data:`MIGRATIONS` brings an older file up to
:data:`SCHEMA_VERSION` in one transaction; a file from a newer version is refused untouched.

One connection serves all threads of a program (a lock orders them); every write is one
``BEGIN IMMEDIATE`` transaction, so a note is either wholly in the history or not at all.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from banknote_guard.history import schema_v1
from banknote_guard.history.errors import HistoryDamagedError, HistoryError, HistoryVersionError
from banknote_guard.history.location import network_filesystem
from banknote_guard.history.records import SyncReport
from banknote_guard.history.sqlstore import Executor, SqlHistory

log = logging.getLogger(__name__)

#: How long a write waits for another program holding the file (seconds).
BUSY_TIMEOUT_S = 15.0
#: Schema version -> the statements that bring the version before it up to it.
MIGRATIONS: dict[int, list[str]] = {1: schema_v1.statements("sqlite")}
SCHEMA_VERSION = max(MIGRATIONS)

# SQLite result codes (the low byte of an extended code).
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_FULL = 13
_SQLITE_BUSY = (5, 6)  # BUSY, LOCKED
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_IOERR = 10


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _is_damage(exc: BaseException) -> bool:
    return _code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in str(exc) or "not a database" in str(exc)


def readable(exc: sqlite3.Error, path: Path, action: str) -> HistoryError:
    """A HistoryError naming the file and the reason in words."""
    code = _code(exc)
    if code == _SQLITE_FULL:
        reason = "the disk is full"
    elif code in _SQLITE_BUSY:
        reason = "another program kept the history busy for too long; try again"
    elif code == _SQLITE_READONLY:
        reason = "the file or its folder is read-only"
    elif code == _SQLITE_CANTOPEN:
        reason = "the file cannot be opened there (missing folder or no permission)"
    elif code == _SQLITE_IOERR:
        reason = "the disk reported an error"
    else:
        reason = str(exc) or type(exc).__name__
    return HistoryError(f"Could not {action} the history {str(path)!r}: {reason}.")


class _Ex:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.head: str | None = None

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Sequence[Any]]:
        return self.conn.execute(sql, dict(params or {})).fetchall()

    def count(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self.conn.execute(sql, dict(params or {})).rowcount


class SQLiteHistory(SqlHistory):
    """A history kept in one SQLite file (see the module docstring).

    Args:
        path: the file (created with its folder when missing).
        busy_timeout_s: how long a write waits for another program writing the same file.
    """

    kind = "sqlite"

    def __init__(self, path: str | Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._lock = threading.RLock()
        share = network_filesystem(self.path.parent if not self.path.exists() else self.path)
        if share:
            raise HistoryError(
                f"The history {str(self.path)!r} is on a network share ({share}). SQLite cannot keep a history "
                "safely there (its write-ahead log needs a local disk). Keep the file on this computer's own "
                "disk, or use a PostgreSQL server for a history shared by several desks."
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"Could not create the folder of the history {str(self.path)!r}: "
                               f"{exc.strerror or exc}.") from None
        existed = self.path.exists() and self.path.stat().st_size > 0
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._connect(busy_timeout_s)
            if existed:
                problem = self._quick_check()
                if problem:
                    self._move_aside(problem)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc):
                self._move_aside(str(exc))
            self._close_quietly()
            raise readable(exc, self.path, "open") from None
        except BaseException:
            self._close_quietly()
            raise

    # --- opening ----------------------------------------------------------------------------

    def _connect(self, busy_timeout_s: float) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise HistoryError(f"The history {str(self.path)!r} cannot use SQLite's write-ahead log (journal mode "
                               f"{mode!r}); keep it on a local disk, not a network share or read-only medium.")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _quick_check(self) -> str | None:
        assert self._conn is not None
        rows = self._conn.execute("PRAGMA quick_check").fetchall()
        problems = [str(r[0]) for r in rows if str(r[0]).lower() != "ok"]
        return "; ".join(problems[:3]) if problems else None

    def _move_aside(self, problem: str) -> None:
        self._close_quietly()
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                side = Path(str(self.path) + suffix)
                if side.exists():
                    os.replace(side, Path(str(aside) + suffix))
        except OSError as exc:
            raise HistoryError(f"The history {str(self.path)!r} is damaged ({problem}) and could not be moved "
                               f"aside ({exc.strerror or exc}); it was left as it is. Move it away by hand.") from None
        log.error("history %s damaged (%s); moved to %s", self.path, problem, aside)
        raise HistoryDamagedError(self.path, aside, problem)

    def _migrate(self) -> None:
        assert self._conn is not None
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryVersionError(
                f"The history {str(self.path)!r} was written by a newer version of banknote_guard (schema "
                f"{version}, this version knows {SCHEMA_VERSION}); it was left untouched. Update the application."
            )
        if version == SCHEMA_VERSION:
            return
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another program may have done it
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[target]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {target}")
                if version == 0:
                    from banknote_guard import __version__
                    from banknote_guard.history.records import utc_now

                    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?), ('app_version', ?)",
                                 (utc_now(), __version__))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _close_quietly(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                pass
            self._conn = None

    # --- transactions -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError(f"The history {self.location} is closed.")
        return self._conn

    @contextlib.contextmanager
    def _transaction(self, begin: str, action: str) -> Iterator[Executor]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute(begin)
            except sqlite3.Error as exc:
                raise readable(exc, self.path, action) from None
            try:
                yield _Ex(conn)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                if _is_damage(exc):
                    raise HistoryError(f"The history {self.location} is damaged ({exc}); close the application "
                                       "and open it again to have the file checked and set aside.") from None
                raise readable(exc, self.path, action) from None
            except BaseException:
                self._rollback(conn)
                raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:  # pragma: no cover - the connection is gone
            pass

    def _reading(self) -> contextlib.AbstractContextManager[Executor]:
        return self._transaction("BEGIN", "read")

    def _writing(self) -> contextlib.AbstractContextManager[Executor]:
        return self._transaction("BEGIN IMMEDIATE", "write to")

    # --- upkeep -------------------------------------------------------------------------------

    def integrity_check(self) -> str | None:
        """The full ``PRAGMA integrity_check``: None when the file is sound, else the first problems."""
        with self._reading() as ex:
            rows = ex.rows("PRAGMA integrity_check")
        problems = [str(r[0]) for r in rows if str(r[0]).lower() != "ok"]
        return "; ".join(problems[:5]) if problems else None

    def schema_version(self) -> int:
        with self._reading() as ex:
            return int(ex.rows("PRAGMA user_version")[0][0])

    # --- outbox bookkeeping (a desk sending to a server) ------------------------------------------

    def sync_cursor(self, target: str) -> int:
        """The last event sent to ``target`` (a server's history id); 0 when none was."""
        with self._reading() as ex:
            rows = ex.rows("SELECT last_seq FROM sync_state WHERE target = :t", {"t": target})
        return int(rows[0][0]) if rows else 0

    def set_sync_cursor(self, target: str, seq: int) -> None:
        from banknote_guard.history.records import utc_now

        with self._writing() as ex:
            ex.count("INSERT INTO sync_state (target, last_seq, updated) VALUES (:t, :s, :u) "
                     "ON CONFLICT (target) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq), "
                     "updated = excluded.updated", {"t": target, "s": int(seq), "u": utc_now()})

    def waiting(self, target: str) -> int:
        """Events not yet sent to ``target``."""
        cursor = self.sync_cursor(target)
        with self._reading() as ex:
            return int(ex.rows("SELECT COUNT(*) FROM events WHERE seq > :s", {"s": cursor})[0][0])

    def sync(self) -> SyncReport | None:
        return None

    def close(self) -> None:
        with self._lock:
            self._close_quietly()
