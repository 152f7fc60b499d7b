"""Records and reviews as table rows, and the canonical text their audit events hash.

One mapping serves every store (SQLite and PostgreSQL), so a record sent from a desk to the server
produces the same event payload on both, and :meth:`History.verify_chain` checks a row against its
event with the same function that wrote it. Fields added to :class:`NoteRecord` or :class:`Review`
later go into the ``extra`` column (JSON) without a schema change.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import re
import uuid
from typing import Any, Iterable, Mapping

from banknote_guard.history.errors import HistoryError
from banknote_guard.history.records import DECISIONS, SOURCES, NoteRecord, Review

#: The hash the first event of a chain links to.
GENESIS = "0" * 64
RECORD_COLUMNS = (
    "id", "batch", "station", "operator", "created", "source", "path", "status", "error", "verdict",
    "denomination", "counterfeit_score", "threshold", "distances", "reasons", "model_id", "model_sha256",
    "image_sha256", "image_blob", "note_blob", "extra",
)
REVIEW_COLUMNS = (
    "id", "record_id", "decision", "reviewer", "created", "handover_ref", "serial_number", "comment", "extra",
)
#: Columns holding JSON text.
JSON_COLUMNS = frozenset({"distances", "reasons", "extra"})
VERDICTS = ("genuine", "suspect", "uncertain", "unknown", "retake")
STATUSES = ("ok", "error")
#: Longest text kept in a name-like field (batch, station, operator, reviewer, references).
MAX_NAME = 200
#: Longest free text (paths, errors, comments).
MAX_TEXT = 4000
_RECORD_FIELDS = {f.name for f in dataclasses.fields(NoteRecord)}
_REVIEW_FIELDS = {f.name for f in dataclasses.fields(Review)}
_IMAGE_FIELDS = {"image", "note_image"}
_HEX = re.compile(r"^[0-9a-f]{64}$")


def canonical(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(prev_hash: str, kind: str, subject: str, created: str, payload: str) -> str:
    """SHA-256 (hex) of an event: the hash before it, its kind, subject, time and payload."""
    text = "\n".join((prev_hash, kind, subject, created, payload))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_text(value: str | _dt.datetime | _dt.date | None, what: str = "time") -> str | None:
    """A time as the sortable UTC text the history stores ("2026-06-01T08:00:00.000000+00:00").

    Accepts datetimes, dates and ISO 8601 text ("2026-06-01", "2026-06-01T08:00", "...Z", "...+02:00");
    a time without a zone is taken as UTC. Raises HistoryError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, _dt.date):
        dt = _dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            dt = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise HistoryError(
                f"{what} {text!r} is not a date or time; use ISO 8601 such as 2026-06-01 or 2026-06-01T14:30Z."
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    return dt.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")


def _name(value: Any, what: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise HistoryError(f"A history record needs a {what}; it was empty.")
    return text[:MAX_NAME]


def _opt_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:limit] if text.strip() else None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _json_extra(obj: Any, known: set[str], skip: set[str]) -> dict[str, Any]:
    from banknote_guard.jsonable import to_jsonable

    out = {}
    for f in dataclasses.fields(obj):
        if f.name in known or f.name in skip:
            continue
        value = to_jsonable(getattr(obj, f.name))
        if isinstance(value, (bytes, bytearray)):
            continue
        out[f.name] = value
    return out


def _uuid(value: Any, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise HistoryError(f"{what} {value!r} is not a UUID.") from None


def record_row(record: NoteRecord) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(row of the records table, blobs to store: SHA-256 -> bytes) for ``record``; checks every field."""
    if not isinstance(record, NoteRecord):
        raise HistoryError(f"Only NoteRecord objects go into the history, not {type(record).__name__}.")
    if record.source not in SOURCES:
        raise HistoryError(f"Unknown source {record.source!r}; expected one of {', '.join(SOURCES)}.")
    if record.status not in STATUSES:
        raise HistoryError(f"Unknown status {record.status!r}; expected 'ok' or 'error'.")
    if record.verdict is not None and record.verdict not in VERDICTS:
        raise HistoryError(f"Unknown verdict {record.verdict!r}; expected one of {', '.join(VERDICTS)}.")
    if record.image_sha256 is not None and not _HEX.match(str(record.image_sha256)):
        raise HistoryError(f"image_sha256 {record.image_sha256!r} is not a SHA-256 in hex.")
    blobs: dict[str, bytes] = {}
    refs: dict[str, str | None] = {}
    for name, data in (("image_blob", record.image), ("note_blob", record.note_image)):
        if data is None:
            refs[name] = None
            continue
        data = bytes(data)
        digest = sha256_hex(data)
        blobs[digest] = data
        refs[name] = digest
    distances = {str(k): _number(v) for k, v in (record.distances or {}).items()}
    row = {
        "id": _uuid(record.id, "Record id"),
        "batch": _name(record.batch, "batch"),
        "station": _name(record.station, "station"),
        "operator": _name(record.operator, "operator"),
        "created": utc_text(record.created, "record time"),
        "source": record.source,
        "path": str(record.path or "")[:MAX_TEXT],
        "status": record.status,
        "error": _opt_text(record.error),
        "verdict": record.verdict,
        "denomination": _opt_text(record.denomination, MAX_NAME),
        "counterfeit_score": _number(record.counterfeit_score),
        "threshold": _number(record.threshold),
        "distances": canonical(distances),
        "reasons": canonical([str(r)[:MAX_TEXT] for r in (record.reasons or [])]),
        "model_id": _opt_text(record.model_id, MAX_NAME),
        "model_sha256": _opt_text(record.model_sha256, MAX_NAME),
        "image_sha256": record.image_sha256,
        "image_blob": refs["image_blob"],
        "note_blob": refs["note_blob"],
        "extra": canonical(_json_extra(record, set(RECORD_COLUMNS), _IMAGE_FIELDS)),
    }
    return row, blobs


def review_row(review: Review) -> dict[str, Any]:
    """The row of the reviews table for ``review``; checks every field."""
    if not isinstance(review, Review):
        raise HistoryError(f"Only Review objects are reviews, not {type(review).__name__}.")
    if review.decision not in DECISIONS:
        raise HistoryError(f"A review decides 'confirmed' or 'released', not {review.decision!r}.")
    return {
        "id": _uuid(review.id, "Review id"),
        "record_id": _uuid(review.record_id, "Record id"),
        "decision": review.decision,
        "reviewer": _name(review.reviewer, "reviewer name"),
        "created": utc_text(review.created, "review time"),
        "handover_ref": _opt_text(review.handover_ref, MAX_NAME),
        "serial_number": _opt_text(review.serial_number, MAX_NAME),
        "comment": _opt_text(review.comment),
        "extra": canonical(_json_extra(review, set(REVIEW_COLUMNS), set())),
    }


def as_dict(columns: Iterable[str], values: Iterable[Any]) -> dict[str, Any]:
    return dict(zip(columns, values))


def _parsed(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if k in JSON_COLUMNS:
            try:
                out[k] = json.loads(v) if v is not None else None
            except (TypeError, ValueError):
                out[k] = {"unreadable": str(v)}
        elif isinstance(v, float) and not math.isfinite(v):
            out[k] = None
        else:
            out[k] = v
    return out


def payload(row: Mapping[str, Any]) -> str:
    """The event payload of a record or review row: its canonical JSON."""
    return canonical(_parsed(row))


def record_from_row(row: Mapping[str, Any], blobs: Mapping[str, bytes] | None = None) -> NoteRecord:
    """A :class:`NoteRecord` from its row (and the stored image bytes, when given)."""
    p = _parsed(row)
    extra = {k: v for k, v in (p.get("extra") or {}).items() if k in _RECORD_FIELDS}
    blobs = blobs or {}
    return NoteRecord(
        id=p["id"], batch=p["batch"], station=p["station"], operator=p["operator"], created=p["created"],
        source=p["source"], path=p["path"], status=p["status"], error=p["error"], verdict=p["verdict"],
        denomination=p["denomination"], counterfeit_score=p["counterfeit_score"], threshold=p["threshold"],
        distances=dict(p["distances"] or {}), reasons=list(p["reasons"] or []), model_id=p["model_id"],
        model_sha256=p["model_sha256"], image_sha256=p["image_sha256"],
        image=blobs.get(p["image_blob"]) if p["image_blob"] else None,
        note_image=blobs.get(p["note_blob"]) if p["note_blob"] else None,
        **extra,
    )


def review_from_row(row: Mapping[str, Any]) -> Review:
    p = _parsed(row)
    extra = {k: v for k, v in (p.get("extra") or {}).items() if k in _REVIEW_FIELDS}
    return Review(
        id=p["id"], record_id=p["record_id"], decision=p["decision"], reviewer=p["reviewer"], created=p["created"],
        handover_ref=p["handover_ref"], serial_number=p["serial_number"], comment=p["comment"], **extra,
    )
