"""The shapes the verification history stores and the reports render: one record per verified note.

A :class:`NoteRecord` is what the history keeps of one verification (append-only); a
:class:`Review` is an operator's later decision on a suspect note, added as an event, never by
editing the record. Reports (:mod:`banknote_guard.reports`) render sequences of records, so they work
the same from a live batch or from the history. Fields may be added, never renamed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.result import VerificationResult

#: Where a note came from.
Source = Literal["file", "camera", "scanner", "watched-folder", "clipboard"]
#: An operator's decision on a suspect note.
Decision = Literal["confirmed", "released"]


def utc_now() -> str:
    """The current UTC time in ISO 8601 with microseconds (sortable as text)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass
class NoteRecord:
    """One verified note as the history keeps it.

    Attributes:
        id: a UUID (text) naming the record everywhere (stations, server, reports).
        batch: the batch (shift, drawer, deposit) the note belongs to.
        station: the desk or machine that verified it.
        operator: who was at the desk.
        created: UTC time of the verification, ISO 8601.
        source: where the image came from (:data:`Source`).
        path: the original file path or a name ("camera 0", "clipboard").
        image_sha256: SHA-256 of the image as verified (of the file's bytes, or of the pixels for frames).
        image: a stored copy of the picture (JPEG bytes), so a report works after the file is gone.
        note_image: the straightened note that was scored (JPEG bytes), or None.
        model_id: the model's short identity; model_sha256 its full hash.
        status: "ok", or "error" when the image could not be used (``error`` says why).
        verdict: "genuine", "suspect", "unknown", "uncertain" or "retake"; None for errors.
        denomination: the denomination id, e.g. "EUR/20", or None.
        counterfeit_score, threshold: the score and the threshold it was judged against.
        distances: denomination id -> distance to its genuine centre.
        reasons: why a note is "unknown", "uncertain" or "retake" (readable sentences).
        regions: why suspect: the regions of the straightened note that differ most from genuine notes of
            its denomination, highest first (``{"score", "box", "box_fraction", "name"}``); empty when the
            model has no local evidence.
        heatmap: each cell's deviation over the straightened note (rows of numbers; None for a missing
            cell), or None; the reports draw it over ``note_image``.
    """

    batch: str
    station: str
    operator: str
    source: Source
    path: str
    status: str = "ok"
    error: str | None = None
    verdict: str | None = None
    denomination: str | None = None
    counterfeit_score: float | None = None
    threshold: float | None = None
    distances: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    model_id: str | None = None
    model_sha256: str | None = None
    image_sha256: str | None = None
    image: bytes | None = field(default=None, repr=False)
    note_image: bytes | None = field(default=None, repr=False)
    regions: list[dict[str, Any]] = field(default_factory=list)
    heatmap: list[list[float | None]] | None = field(default=None, repr=False)
    created: str = field(default_factory=utc_now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def from_result(
        cls,
        result: "VerificationResult",
        *,
        batch: str,
        station: str,
        operator: str,
        source: Source = "file",
        model_id: str | None = None,
        model_sha256: str | None = None,
        image: bytes | None = None,
        note_image: bytes | None = None,
        image_sha256: str | None = None,
    ) -> "NoteRecord":
        """A record of one verification result (images and hashes as the caller stored them)."""
        return cls(
            batch=batch,
            station=station,
            operator=operator,
            source=source,
            path=result.path,
            status=result.status,
            error=result.error,
            verdict=result.verdict,
            denomination=result.denomination,
            counterfeit_score=result.counterfeit_score,
            threshold=result.threshold,
            distances=dict(result.distances),
            reasons=list(result.reasons),
            model_id=model_id,
            model_sha256=model_sha256,
            image_sha256=image_sha256 or (hashlib.sha256(image).hexdigest() if image is not None else None),
            image=image,
            note_image=note_image,
            regions=[clean_region(r) for r in (getattr(result, "regions", None) or [])],
            heatmap=clean_heatmap(getattr(result, "heatmap", None)),
        )

    def to_json(self) -> dict[str, Any]:
        """The record without its image bytes (JSON exports, API answers)."""
        return {
            "id": self.id, "batch": self.batch, "station": self.station, "operator": self.operator,
            "created": self.created, "source": self.source, "path": self.path, "status": self.status,
            "error": self.error, "verdict": self.verdict, "denomination": self.denomination,
            "counterfeit_score": self.counterfeit_score, "threshold": self.threshold,
            "distances": dict(self.distances), "reasons": list(self.reasons), "model_id": self.model_id,
            "model_sha256": self.model_sha256, "image_sha256": self.image_sha256,
            "regions": [dict(r) for r in self.regions], "heatmap": self.heatmap,
        }


#: Most cells a stored heat map may have (rows x columns); a larger one is not kept.
MAX_HEATMAP_CELLS = 1024


def _finite(value: Any, digits: int = 3) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return round(v, digits) if math.isfinite(v) else None


def clean_heatmap(heatmap: Any) -> list[list[float | None]] | None:
    """A heat map as the history keeps it: rows of rounded numbers (None for NaN), or None when there is
    none or it is not a small 2-D grid of numbers."""
    if heatmap is None:
        return None
    try:
        rows = [list(r) for r in heatmap]
    except TypeError:
        return None
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows) or len(rows) * len(rows[0]) > MAX_HEATMAP_CELLS:
        return None
    return [[_finite(v, 2) for v in r] for r in rows]


def clean_region(region: Any) -> dict[str, Any]:
    """One why-suspect region as the history keeps it (numbers checked, box fractions clipped to [0, 1])."""
    r = dict(region) if isinstance(region, dict) else {}
    frac = r.get("box_fraction") or []
    box = r.get("box") or []
    try:
        fr = [min(max(float(v), 0.0), 1.0) for v in frac][:4]
    except (TypeError, ValueError):
        fr = []
    try:
        bx = [int(v) for v in box][:4]
    except (TypeError, ValueError):
        bx = []
    name = r.get("name")
    return {"score": _finite(r.get("score")), "box": bx if len(bx) == 4 else None,
            "box_fraction": fr if len(fr) == 4 else None, "name": None if name is None else str(name)[:80]}


@dataclass
class Review:
    """An operator's decision on a suspect note (an event added to the history).

    Attributes:
        record_id: the :class:`NoteRecord` it is about.
        decision: "confirmed" (a counterfeit: handed over) or "released" (genuine after all).
        reviewer: who decided.
        created: UTC time of the decision.
        handover_ref: the reference of the hand-over to the authorities (police, central bank), if any.
        serial_number: the note's serial number as read by the operator, if filled in.
        comment: free text (circumstances).
    """

    record_id: str
    decision: Decision
    reviewer: str
    handover_ref: str | None = None
    serial_number: str | None = None
    comment: str | None = None
    created: str = field(default_factory=utc_now)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


#: Every :data:`Decision`, in the order forms offer them.
DECISIONS: tuple[str, ...] = ("confirmed", "released")
#: Every :data:`Source`.
SOURCES: tuple[str, ...] = ("file", "camera", "scanner", "watched-folder", "clipboard")


@dataclass
class BatchInfo:
    """One batch in the history: its id, time span, size, and where and by whom it was verified.

    Attributes:
        id: the batch id.
        first, last: UTC times (ISO 8601) of its first and last record.
        count: records in the batch.
        station, operator: of its first record (a batch is one desk's work).
        verdicts: verdict -> count ("error" for unreadable images).
    """

    id: str
    first: str
    last: str
    count: int
    station: str
    operator: str
    verdicts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "first": self.first, "last": self.last, "count": self.count,
                "station": self.station, "operator": self.operator, "verdicts": dict(self.verdicts)}


@dataclass
class BrokenLink:
    """The first place where the audit trail does not hold.

    Attributes:
        seq: the event's position in the chain (None when the problem is a record with no event).
        kind: "record" or "review".
        subject: the id of the record or review the event is about.
        reason: what is wrong, in words.
    """

    seq: int | None
    kind: str
    subject: str
    reason: str

    def text(self) -> str:
        where = f"event #{self.seq}" if self.seq is not None else "outside the chain"
        return f"{where} ({self.kind} {self.subject}): {self.reason}"


@dataclass
class ChainReport:
    """The result of checking the audit trail (:meth:`History.verify_chain`).

    Attributes:
        ok: every event links to the one before, every hash matches, every record and review is
            exactly what its event says, and nothing was added outside the chain.
        checked: events checked.
        first_broken: the first problem found, or None.
        location: which history was checked (a file, or a server without its password).
        head: the hash of the last event when the chain is intact. Writing it down (on a shift report,
            in another system) anchors the chain: a later check that does not end in the same hash, or
            in a chain that continues from it, means the end of the history was rewritten.
    """

    ok: bool
    checked: int
    first_broken: BrokenLink | None = None
    location: str = ""
    head: str | None = None

    def text(self) -> str:
        if self.ok:
            head = f"; last hash {self.head}" if self.head else ""
            return f"Audit trail intact: {self.checked} event(s) checked ({self.location}){head}."
        assert self.first_broken is not None
        return (f"AUDIT TRAIL BROKEN in {self.location} at {self.first_broken.text()} "
                f"({self.checked} event(s) checked before it).")

    def to_json(self) -> dict[str, Any]:
        broken = self.first_broken
        return {"ok": self.ok, "checked": self.checked, "location": self.location, "head": self.head,
                "first_broken": None if broken is None else {
                    "seq": broken.seq, "kind": broken.kind, "subject": broken.subject, "reason": broken.reason}}


@dataclass
class SyncReport:
    """What one synchronisation of a station's outbox with the server did.

    Attributes:
        online: the server was reached.
        sent: records and reviews sent this time (including ones the server already had).
        new_on_server: of those, how many the server did not have yet.
        waiting: records and reviews still waiting in the outbox.
        error: why the server could not be reached or the sending stopped, or None.
    """

    online: bool
    sent: int = 0
    new_on_server: int = 0
    waiting: int = 0
    error: str | None = None

    def text(self) -> str:
        if not self.online:
            return f"Server not reachable ({self.error}); {self.waiting} item(s) wait in this desk's outbox."
        return (f"Sent {self.sent} item(s) to the server ({self.new_on_server} new); "
                f"{self.waiting} still waiting.")
