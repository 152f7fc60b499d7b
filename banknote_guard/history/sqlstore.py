"""The history on a SQL database: one implementation of :class:`History` for SQLite and PostgreSQL.

A store supplies two context managers, :meth:`SqlHistory._reading` and :meth:`SqlHistory._writing`,
each yielding an :class:`Executor` on one transaction (``_writing`` also holds the chain lock, so
events are appended one at a time); the SQL below is written once, with ``:name`` parameters and
``ON CONFLICT DO NOTHING``, which both databases understand.

Tables: ``records`` and ``reviews`` (one row each, never changed: triggers refuse UPDATE and DELETE),
``blobs`` (stored pictures, named by their SHA-256) and ``events`` (the audit chain: ``seq``, ``kind``,
``subject``, ``created``, ``payload`` = the canonical JSON of the row, ``prev_hash``, ``hash``).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

from banknote_guard.history import rows as R
from banknote_guard.history.errors import HistoryError, RecordNotFoundError
from banknote_guard.history.records import BatchInfo, BrokenLink, ChainReport, NoteRecord, Review, utc_now
from banknote_guard.history.store import History, TimeLike

#: Events checked per round trip by verify_chain.
CHAIN_PAGE = 200
#: Ids per IN (...) list.
IN_CHUNK = 200
#: Columns whose distinct values :meth:`SqlHistory.values` lists.
VALUE_COLUMNS = ("denomination", "operator", "station", "batch")
_PREFIX = re.compile(r"^[0-9a-fA-F-]{4,36}$")


class Executor(Protocol):
    """Runs SQL with ``:name`` parameters on one open transaction; ``head`` caches the chain's last hash
    within a writing transaction (None until read)."""

    head: str | None

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Sequence[Any]]: ...

    def count(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...


def _cols(columns: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c}" for c in columns)


_INSERT_RECORD = (f"INSERT INTO records ({_cols(R.RECORD_COLUMNS)}) VALUES ({_cols(R.RECORD_COLUMNS, ':')}) "
                  "ON CONFLICT (id) DO NOTHING")
_INSERT_REVIEW = (f"INSERT INTO reviews ({_cols(R.REVIEW_COLUMNS)}) VALUES ({_cols(R.REVIEW_COLUMNS, ':')}) "
                  "ON CONFLICT (id) DO NOTHING")
_INSERT_BLOB = "INSERT INTO blobs (sha256, size, data) VALUES (:sha256, :size, :data) ON CONFLICT (sha256) DO NOTHING"
_INSERT_EVENT = ("INSERT INTO events (kind, subject, created, payload, prev_hash, hash) "
                 "VALUES (:kind, :subject, :created, :payload, :prev_hash, :hash)")


def _in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    keys = [f"{name}{i}" for i in range(len(values))]
    return ", ".join(f":{k}" for k in keys), dict(zip(keys, values))


def _chunks(items: Sequence[Any], n: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class SqlHistory(History):
    """:class:`History` over SQL; subclasses open the database and provide the transactions."""

    # --- what a store provides --------------------------------------------------------------

    def _reading(self) -> contextlib.AbstractContextManager[Executor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _writing(self) -> contextlib.AbstractContextManager[Executor]:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _bytes(value: Any) -> bytes:
        return bytes(value) if value is not None else b""

    # --- writing ----------------------------------------------------------------------------

    def add(self, record: NoteRecord) -> bool:
        row, blobs = R.record_row(record)
        with self._writing() as ex:
            return self._insert_record(ex, row, blobs)

    def add_many(self, records: Iterable[NoteRecord]) -> int:
        prepared = [R.record_row(r) for r in records]
        if not prepared:
            return 0
        with self._writing() as ex:
            return sum(self._insert_record(ex, row, blobs) for row, blobs in prepared)

    def review(self, review: Review) -> None:
        row = R.review_row(review)
        with self._writing() as ex:
            self._insert_review(ex, row)

    def _insert_record(self, ex: Executor, row: dict[str, Any], blobs: Mapping[str, bytes]) -> bool:
        for digest, data in blobs.items():
            ex.count(_INSERT_BLOB, {"sha256": digest, "size": len(data), "data": data})
        return self._insert(ex, "record", _INSERT_RECORD, row)

    def _insert_review(self, ex: Executor, row: dict[str, Any]) -> bool:
        if not ex.rows("SELECT 1 FROM records WHERE id = :id", {"id": row["record_id"]}):
            raise RecordNotFoundError(f"No record with id {row['record_id']!r} in the history {self.location}; "
                                      "a review must be about a verified note.")
        return self._insert(ex, "review", _INSERT_REVIEW, row)

    def _insert(self, ex: Executor, kind: str, sql: str, row: dict[str, Any]) -> bool:
        """Insert a record or review row with its event; False when that id is there already (the same
        content: re-sending is harmless; different content is refused)."""
        text = R.payload(row)
        if ex.count(sql, row) == 0:
            found = ex.rows("SELECT payload FROM events WHERE kind = :kind AND subject = :subject",
                            {"kind": kind, "subject": row["id"]})
            if found and found[0][0] != text:
                raise HistoryError(f"A different {kind} with id {row['id']} is already in the history "
                                   f"{self.location}; nothing was changed (the history is append-only).")
            return False
        self._append_event(ex, kind, row["id"], text)
        return True

    def _append_event(self, ex: Executor, kind: str, subject: str, text: str) -> None:
        # The chain lock is held for the whole transaction, so the head read once stays the head.
        prev = getattr(ex, "head", None)
        if prev is None:
            last = ex.rows("SELECT hash FROM events ORDER BY seq DESC LIMIT 1")
            prev = last[0][0] if last else R.GENESIS
        created = utc_now()
        digest = R.event_hash(prev, kind, subject, created, text)
        ex.count(_INSERT_EVENT, {"kind": kind, "subject": subject, "created": created, "payload": text,
                                 "prev_hash": prev, "hash": digest})
        ex.head = digest  # type: ignore[attr-defined]

    # --- reading ----------------------------------------------------------------------------

    def _blobs(self, ex: Executor, digests: Iterable[str | None]) -> dict[str, bytes]:
        wanted = sorted({d for d in digests if d})
        out: dict[str, bytes] = {}
        for part in _chunks(wanted):
            marks, params = _in_list("b", part)
            for digest, data in ex.rows(f"SELECT sha256, data FROM blobs WHERE sha256 IN ({marks})", params):
                out[digest] = self._bytes(data)
        return out

    def _records(self, ex: Executor, rows: list[Sequence[Any]], with_images: bool) -> list[NoteRecord]:
        dicts = [R.as_dict(R.RECORD_COLUMNS, r) for r in rows]
        blobs = self._blobs(ex, [d[c] for d in dicts for c in ("image_blob", "note_blob")]) if with_images else {}
        return [R.record_from_row(d, blobs) for d in dicts]

    def get(self, record_id: str, *, with_images: bool = True) -> NoteRecord:
        with self._reading() as ex:
            rows = ex.rows(f"SELECT {_cols(R.RECORD_COLUMNS)} FROM records WHERE id = :id", {"id": str(record_id)})
            if not rows:
                raise RecordNotFoundError(f"No record with id {str(record_id)!r} in the history {self.location}.")
            return self._records(ex, rows, with_images)[0]

    def find(self, id_prefix: str, *, with_images: bool = True) -> NoteRecord:
        prefix = str(id_prefix).strip().lower()
        if not _PREFIX.match(prefix):
            raise RecordNotFoundError(f"{id_prefix!r} is not a record id (give at least its first 4 characters, "
                                      "as `history list` shows them).")
        if len(prefix) == 36:
            return self.get(prefix, with_images=with_images)
        with self._reading() as ex:
            rows = ex.rows(f"SELECT {_cols(R.RECORD_COLUMNS)} FROM records WHERE id >= :lo AND id < :hi "
                           "ORDER BY id LIMIT 2", {"lo": prefix, "hi": prefix + "~"})
            if not rows:
                raise RecordNotFoundError(f"No record id starts with {prefix!r} in the history {self.location}.")
            if len(rows) > 1:
                raise RecordNotFoundError(f"Several record ids start with {prefix!r}; give more characters.")
            return self._records(ex, rows, with_images)[0]

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
        where, params = self._filters(batch=batch, since=since, until=until, verdict=verdict,
                                      denomination=denomination, operator=operator, station=station)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {_cols(R.RECORD_COLUMNS)} FROM records{where} ORDER BY created {order}, id {order}"
        if limit is not None:
            if int(limit) < 1:
                raise HistoryError(f"A query limit must be 1 or more, not {limit!r}.")
            sql += " LIMIT :limit"
            params["limit"] = int(limit)
        with self._reading() as ex:
            return self._records(ex, ex.rows(sql, params), with_images)

    @staticmethod
    def _filters(**given: Any) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for col in ("batch", "denomination", "operator", "station"):
            if given.get(col) is not None:
                clauses.append(f"{col} = :{col}")
                params[col] = str(given[col])
        if given.get("since") is not None:
            clauses.append("created >= :since")
            params["since"] = R.utc_text(given["since"], "since")
        if given.get("until") is not None:
            clauses.append("created < :until")
            params["until"] = R.utc_text(given["until"], "until")
        verdict = given.get("verdict")
        if verdict is not None:
            wanted = [verdict] if isinstance(verdict, str) else list(verdict)
            unknown = [v for v in wanted if v not in (*R.VERDICTS, "error")]
            if unknown:
                raise HistoryError(f"Unknown verdict {unknown[0]!r}; choose from {', '.join((*R.VERDICTS, 'error'))}.")
            parts = []
            if "error" in wanted:
                parts.append("status = 'error'")
            plain = [v for v in wanted if v != "error"]
            if plain:
                marks, p = _in_list("v", plain)
                parts.append(f"(status = 'ok' AND verdict IN ({marks}))")
                params.update(p)
            clauses.append("(" + " OR ".join(parts) + ")" if parts else "1 = 0")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def reviews(self, record_id: str | None = None) -> list[Review]:
        sql = f"SELECT {_cols(R.REVIEW_COLUMNS)} FROM reviews"
        params: dict[str, Any] = {}
        if record_id is not None:
            sql += " WHERE record_id = :rid"
            params["rid"] = str(record_id)
        with self._reading() as ex:
            rows = ex.rows(sql + " ORDER BY created, id", params)
        return [R.review_from_row(R.as_dict(R.REVIEW_COLUMNS, r)) for r in rows]

    def batches(self, *, since: TimeLike = None, until: TimeLike = None) -> list[BatchInfo]:
        where, params = self._filters(since=since, until=until)
        with self._reading() as ex:
            heads = ex.rows(f"SELECT batch, MIN(created), MAX(created), COUNT(*) FROM records{where} "
                            "GROUP BY batch ORDER BY MIN(created), batch", params)
            firsts = {b: (s, o) for b, s, o in ex.rows(
                "SELECT r.batch, r.station, r.operator FROM records r JOIN (SELECT batch, MIN(created) AS c "
                f"FROM records{where} GROUP BY batch) f ON f.batch = r.batch AND f.c = r.created", params)}
            counts: dict[str, dict[str, int]] = {}
            for b, status, verdict, n in ex.rows(
                f"SELECT batch, status, verdict, COUNT(*) FROM records{where} GROUP BY batch, status, verdict", params
            ):
                key = "error" if status == "error" else str(verdict)
                counts.setdefault(b, {})[key] = counts.get(b, {}).get(key, 0) + int(n)
        return [BatchInfo(id=b, first=f, last=l, count=int(n), station=firsts.get(b, ("", ""))[0],
                          operator=firsts.get(b, ("", ""))[1], verdicts=counts.get(b, {}))
                for b, f, l, n in heads]

    def values(self, column: str) -> list[str]:
        if column not in VALUE_COLUMNS:
            raise HistoryError(f"Cannot list {column!r}; choose from {', '.join(VALUE_COLUMNS)}.")
        with self._reading() as ex:
            rows = ex.rows(f"SELECT DISTINCT {column} FROM records WHERE {column} IS NOT NULL ORDER BY {column}")
        return [str(r[0]) for r in rows]

    def count(self) -> int:
        """Records in the history."""
        with self._reading() as ex:
            return int(ex.rows("SELECT COUNT(*) FROM records")[0][0])

    # --- audit ------------------------------------------------------------------------------

    def verify_chain(self, *, check_images: bool = True) -> ChainReport:
        prev = R.GENESIS
        checked = 0
        after = -1
        while True:
            with self._reading() as ex:
                events = ex.rows("SELECT seq, kind, subject, created, payload, prev_hash, hash FROM events "
                                 "WHERE seq > :after ORDER BY seq LIMIT :n", {"after": after, "n": CHAIN_PAGE})
                if not events:
                    broken = self._outside_chain(ex)
                    return ChainReport(ok=broken is None, checked=checked, first_broken=broken,
                                       location=self.location, head=None if prev == R.GENESIS else prev)
                rows = self._subject_rows(ex, events)
                blobs = (self._blobs(ex, [r.get(c) for r in rows.values() for c in ("image_blob", "note_blob")])
                         if check_images else {})
            for seq, kind, subject, created, text, prev_hash, digest in events:
                problem = self._check_event(prev, kind, subject, created, text, prev_hash, digest, rows, blobs,
                                            check_images)
                if problem:
                    broken = BrokenLink(int(seq), kind, subject, problem)
                    return ChainReport(ok=False, checked=checked, first_broken=broken, location=self.location)
                prev = digest
                checked += 1
            after = int(events[-1][0])

    def _subject_rows(self, ex: Executor, events: list[Sequence[Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, table, columns in (("record", "records", R.RECORD_COLUMNS), ("review", "reviews", R.REVIEW_COLUMNS)):
            ids = [e[2] for e in events if e[1] == kind]
            for part in _chunks(ids):
                marks, params = _in_list("i", part)
                for row in ex.rows(f"SELECT {_cols(columns)} FROM {table} WHERE id IN ({marks})", params):
                    d = R.as_dict(columns, row)
                    out[(kind, d["id"])] = d
        return out

    @staticmethod
    def _check_event(prev: str, kind: str, subject: str, created: str, text: str, prev_hash: str, digest: str,
                     rows: Mapping[tuple[str, str], dict[str, Any]], blobs: Mapping[str, bytes],
                     check_images: bool) -> str | None:
        if prev_hash != prev:
            return "it does not link to the event before it (an event was removed, inserted or changed)"
        if R.event_hash(prev_hash, kind, subject, created, text) != digest:
            return "its hash does not match its contents (the event was changed)"
        row = rows.get((kind, subject))
        if row is None:
            return f"its {kind} is missing from the history"
        if R.payload(row) != text:
            return f"the stored {kind} differs from what was recorded (it was changed after the fact)"
        if check_images:
            for col in ("image_blob", "note_blob"):
                ref = row.get(col)
                if ref and (ref not in blobs or R.sha256_hex(blobs[ref]) != ref):
                    what = "picture" if col == "image_blob" else "straightened note"
                    return f"its stored {what} is missing or changed"
        return None

    def _outside_chain(self, ex: Executor) -> BrokenLink | None:
        for kind, table in (("record", "records"), ("review", "reviews")):
            rows = ex.rows(f"SELECT t.id FROM {table} t LEFT JOIN events e ON e.kind = :kind AND e.subject = t.id "
                           "WHERE e.seq IS NULL ORDER BY t.id LIMIT 1", {"kind": kind})
            if rows:
                return BrokenLink(None, kind, rows[0][0], f"this {kind} has no event in the chain (it was added "
                                  "outside the application)")
        return None

    # --- the outbox side of synchronisation (used by a desk's SQLite file) --------------------

    def events_after(self, seq: int, limit: int) -> list[tuple[int, str, str]]:
        """(seq, kind, subject) of the events after ``seq``, oldest first."""
        with self._reading() as ex:
            rows = ex.rows("SELECT seq, kind, subject FROM events WHERE seq > :s ORDER BY seq LIMIT :n",
                           {"s": int(seq), "n": int(limit)})
        return [(int(s), str(k), str(subj)) for s, k, subj in rows]

    def review_by_id(self, review_id: str) -> Review:
        with self._reading() as ex:
            rows = ex.rows(f"SELECT {_cols(R.REVIEW_COLUMNS)} FROM reviews WHERE id = :id", {"id": review_id})
        if not rows:
            raise RecordNotFoundError(f"No review with id {review_id!r} in the history {self.location}.")
        return R.review_from_row(R.as_dict(R.REVIEW_COLUMNS, rows[0]))

    def receive(self, records: Sequence[NoteRecord], reviews: Sequence[Review]) -> int:
        """Store what a desk sends, in one transaction; returns how many items were new here."""
        prepared = [R.record_row(r) for r in records]
        review_rows = [R.review_row(r) for r in reviews]
        with self._writing() as ex:
            new = sum(self._insert_record(ex, row, blobs) for row, blobs in prepared)
            new += sum(self._insert_review(ex, row) for row in review_rows)
        return new
