"""Version 1 of the history's tables, in the two dialects the history runs on (frozen: a later version
adds a new module and a new migration, it never edits this one).

The SQLite file's migration 1 (:mod:`banknote_guard.history.sqlite`) and the server's first Alembic
revision (``migrations/versions/0001_history.py``) both take their statements from here, so a desk's
outbox and the server hold the same tables: ``meta``, ``blobs`` (stored pictures by SHA-256),
``records``, ``reviews`` and ``events`` (the audit chain), with triggers that refuse any change or
deletion of the last four; a desk's file also has ``sync_state`` (what it has sent to which server).
"""

from __future__ import annotations

#: The tables whose rows are never changed nor deleted.
APPEND_ONLY = ("records", "reviews", "events", "blobs")

_TYPES = {
    "sqlite": {"BLOB": "BLOB", "REAL": "REAL", "BIGINT": "INTEGER", "SEQ": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgresql": {"BLOB": "BYTEA", "REAL": "DOUBLE PRECISION", "BIGINT": "BIGINT",
                   "SEQ": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
}

_TABLES = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size {BIGINT} NOT NULL, data {BLOB} NOT NULL)",
    """CREATE TABLE records (
        id TEXT PRIMARY KEY, batch TEXT NOT NULL, station TEXT NOT NULL, operator TEXT NOT NULL,
        created TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
        verdict TEXT, denomination TEXT, counterfeit_score {REAL}, threshold {REAL}, distances TEXT NOT NULL,
        reasons TEXT NOT NULL, model_id TEXT, model_sha256 TEXT, image_sha256 TEXT,
        image_blob TEXT REFERENCES blobs (sha256), note_blob TEXT REFERENCES blobs (sha256), extra TEXT NOT NULL)""",
    "CREATE INDEX records_created ON records (created)",
    "CREATE INDEX records_batch ON records (batch, created)",
    "CREATE INDEX records_verdict ON records (verdict, created)",
    "CREATE INDEX records_denomination ON records (denomination, created)",
    "CREATE INDEX records_operator ON records (operator, created)",
    "CREATE INDEX records_station ON records (station, created)",
    """CREATE TABLE reviews (
        id TEXT PRIMARY KEY, record_id TEXT NOT NULL REFERENCES records (id),
        decision TEXT NOT NULL CHECK (decision IN ('confirmed', 'released')), reviewer TEXT NOT NULL,
        created TEXT NOT NULL, handover_ref TEXT, serial_number TEXT, comment TEXT, extra TEXT NOT NULL)""",
    "CREATE INDEX reviews_record ON reviews (record_id, created)",
    """CREATE TABLE events (
        seq {SEQ}, kind TEXT NOT NULL, subject TEXT NOT NULL, created TEXT NOT NULL, payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, UNIQUE (kind, subject))""",
]

_SQLITE_ONLY = [
    "CREATE TABLE sync_state (target TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, updated TEXT NOT NULL)",
    *[f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} "
      f"BEGIN SELECT RAISE(ABORT, 'the history is append-only: {t} cannot be changed'); END"
      for t in APPEND_ONLY for op in ("UPDATE", "DELETE")],
]

_POSTGRESQL_ONLY = [
    # pictures are JPEGs already: store them out of line without trying to compress them again
    "ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL",
    """CREATE FUNCTION banknote_guard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the history is append-only: % cannot be changed', TG_TABLE_NAME;
        END
        $$""",
    *[f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
      "FOR EACH ROW EXECUTE FUNCTION banknote_guard_append_only()" for t in APPEND_ONLY],
    *[f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
      "FOR EACH STATEMENT EXECUTE FUNCTION banknote_guard_append_only()" for t in APPEND_ONLY],
]


def statements(dialect: str) -> list[str]:
    """The statements that create version 1 in ``dialect`` ("sqlite" or "postgresql")."""
    types = _TYPES[dialect]
    tables = [sql.format(**types) for sql in _TABLES]
    return tables + (_SQLITE_ONLY if dialect == "sqlite" else _POSTGRESQL_ONLY)
