"""The history on a PostgreSQL server: one history for every desk of a cash centre.

SQLAlchemy 2 (Core) with the psycopg 3 driver. The schema is created and upgraded with Alembic
(``banknote_guard/history/migrations``) when a server is opened, under an advisory lock so that two
desks starting together do not both migrate; a server whose schema is newer than this version is
refused untouched. Events are appended under a transaction-scoped advisory lock, so the chain stays one
line however many desks send at once. Triggers refuse UPDATE, DELETE and TRUNCATE on the history's
tables, as on a desk.

Give the server as ``postgresql://user:password@host:5432/database`` (``?sslmode=require`` and the other
libpq options pass through). Errors reaching it are
:class:`~banknote_guard.history.errors.HistoryUnavailableError`; a desk (``StationHistory``) then keeps
working on its outbox.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from banknote_guard.history.errors import HistoryError, HistoryUnavailableError, HistoryVersionError
from banknote_guard.history.location import redact
from banknote_guard.history.sqlstore import Executor, SqlHistory

log = logging.getLogger(__name__)

#: Seconds to wait for the server to answer a connection.
CONNECT_TIMEOUT_S = 5
#: Advisory lock keys (any fixed 64-bit numbers unique to banknote_guard).
CHAIN_LOCK = 0x42475F4348414E  # "BG_CHAN"
MIGRATION_LOCK = 0x42475F4D494752  # "BG_MIGR"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Alembic's bookkeeping table (named for banknote_guard: the database may hold other applications).
VERSION_TABLE = "banknote_guard_schema"


def sqlalchemy_url(url: str) -> str:
    """``postgresql://...`` as SQLAlchemy names it with the psycopg 3 driver."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise HistoryError(f"{redact(url)!r} is not a server address; use postgresql://user:password@host/database.")
    return f"postgresql+psycopg://{rest}"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


@functools.lru_cache(maxsize=512)
def _text(sql: str) -> Any:
    """The SQLAlchemy statement of ``sql`` (parsed once per distinct text)."""
    from sqlalchemy import text

    return text(sql)


def _revision(conn: Any) -> str | None:
    """The Alembic revision of the history's schema on the server (None: no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


class _Ex:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.head: str | None = None

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Sequence[Any]]:
        return [tuple(r) for r in self.conn.execute(_text(sql), dict(params or {})).fetchall()]

    def count(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return int(self.conn.execute(_text(sql), dict(params or {})).rowcount)


class ServerHistory(SqlHistory):
    """A history on a PostgreSQL server (see the module docstring).

    Args:
        url: ``postgresql://user:password@host[:port]/database``.
        connect_timeout_s: seconds to wait for the server.
        migrate: create or upgrade the schema (under a lock) before use.

    Attributes:
        history_id: a UUID naming this server's history (desks remember what they sent per history).
    """

    kind = "postgresql"

    def __init__(self, url: str, *, connect_timeout_s: float = CONNECT_TIMEOUT_S, migrate: bool = True) -> None:
        try:
            import sqlalchemy as sa
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise HistoryError(f"A server history needs SQLAlchemy and psycopg ({exc}); "
                               "reinstall banknote_guard.") from None
        self._sa = sa
        self.url = url
        self.location = redact(url)
        try:
            self.engine = sa.create_engine(
                sqlalchemy_url(url), pool_pre_ping=True, pool_size=2, max_overflow=4,
                connect_args={"connect_timeout": max(1, int(round(connect_timeout_s))),
                              "application_name": "banknote_guard"},
            )
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise HistoryError(f"{self.location!r} is not a usable server address: {exc}.") from None
        try:
            with self._errors("open"), self.engine.begin() as conn:
                if migrate:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
                    self._upgrade(conn)
                self.history_id = self._history_id(conn)
        except BaseException:
            self.engine.dispose()
            raise

    # --- schema --------------------------------------------------------------------------------

    def _alembic_config(self, conn: Any) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        return cfg

    def _upgrade(self, conn: Any) -> None:
        from alembic import command
        from alembic.script import ScriptDirectory

        cfg = self._alembic_config(conn)
        script = ScriptDirectory.from_config(cfg)
        current = _revision(conn)
        if current is not None and current not in {s.revision for s in script.walk_revisions()}:
            raise HistoryVersionError(
                f"The history on {self.location} was set up by a newer version of banknote_guard (schema "
                f"{current}); it was left untouched. Update the application on this desk."
            )
        if current != script.get_current_head():
            log.info("upgrading the history schema on %s from %s to %s", self.location, current,
                     script.get_current_head())
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        with self._errors("read"), self.engine.connect() as conn:
            return _revision(conn)

    def _history_id(self, conn: Any) -> str:
        text = self._sa.text
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('history_id', :v) ON CONFLICT (key) DO NOTHING"),
                     {"v": str(uuid.uuid4())})
        return str(conn.execute(text("SELECT value FROM meta WHERE key = 'history_id'")).scalar_one())

    # --- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        sa = self._sa
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise HistoryUnavailableError(
                f"The history server {self.location} cannot be reached ({_first_line(exc)})."
            ) from None
        except sa.exc.DBAPIError as exc:
            if getattr(exc, "connection_invalidated", False):
                raise HistoryUnavailableError(
                    f"The connection to the history server {self.location} was lost ({_first_line(exc)})."
                ) from None
            raise HistoryError(f"The history server {self.location} refused to {action}: {_first_line(exc)}.") from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Executor]:
        with self._errors("read"), self.engine.connect() as conn:
            with conn.begin():
                yield _Ex(conn)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Executor]:
        with self._errors("write"), self.engine.begin() as conn:
            conn.execute(self._sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
            yield _Ex(conn)

    def status(self) -> str:
        return f"server {self.location}"

    def close(self) -> None:
        self.engine.dispose()
