"""Pictures for reports: fitted JPEGs, thumbnails and data URIs, safe against damaged images.

A stored picture may be damaged or not a picture at all (a history restored from a backup, a
truncated write): every function here answers None for such bytes instead of raising, so one bad
picture costs one empty frame in a report, never the report.
"""

from __future__ import annotations

import base64
import io
import logging
import warnings
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.history.records import NoteRecord

log = logging.getLogger(__name__)

#: Pictures larger than this (pixels) are not decoded (a decompression bomb in a stored record).
MAX_PIXELS = 60_000_000
#: Thumbnails in the notes table: at most this many pixels wide and high.
THUMBNAIL_SIZE = (240, 120)
#: Straightened notes and original pictures in detail sections: at most this many pixels wide and high.
DETAIL_SIZE = (1000, 700)


def _open(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.width * im.height > MAX_PIXELS:
                return None
            return im
    except Exception:  # noqa: BLE001 - any undecodable picture is simply not shown
        log.debug("stored picture could not be opened", exc_info=True)
        return None


def fit_jpeg(data: bytes | None, max_size: tuple[int, int], quality: int = 82) -> bytes | None:
    """A JPEG of the picture in ``data`` no larger than ``max_size`` (width, height), or None.

    A JPEG that already fits (RGB or grey) is returned as it is, after a full decode proves it sound.
    """
    im = _open(data)
    if im is None:
        return None
    try:
        fits = im.width <= max_size[0] and im.height <= max_size[1]
        if fits and im.format == "JPEG" and im.mode in ("RGB", "L"):
            im.load()
            return data
        im.draft("RGB", max_size)  # JPEG: decode at a reduced scale, much faster for big pictures
        im = im.convert("RGB")
        im.thumbnail(max_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        return buf.getvalue()
    except Exception:  # noqa: BLE001
        log.debug("stored picture could not be decoded", exc_info=True)
        return None


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a picture that :func:`fit_jpeg` returned."""
    with Image.open(io.BytesIO(data)) as im:
        return im.width, im.height


def data_uri(jpeg: bytes) -> str:
    """A ``data:image/jpeg;base64,...`` URI (HTML reports are one self-contained file)."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


class Pictures:
    """The pictures of a report's notes, fitted once per report and kept for the writers.

    ``thumbnail``: the straightened note (else the picture as captured) for the notes table;
    ``note``: the straightened note for detail sections; ``original``: the picture as captured.
    Each answers None when the record holds no such picture or it cannot be decoded.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], bytes | None] = {}

    def _get(self, record_id: str, which: str, data: bytes | None, size: tuple[int, int]) -> bytes | None:
        key = (record_id, which)
        if key not in self._cache:
            self._cache[key] = fit_jpeg(data, size)
        return self._cache[key]

    def thumbnail(self, record: "NoteRecord") -> bytes | None:
        data = record.note_image if record.note_image else record.image
        return self._get(record.id, "thumbnail", data, THUMBNAIL_SIZE)

    def note(self, record: "NoteRecord") -> bytes | None:
        return self._get(record.id, "note", record.note_image, DETAIL_SIZE)

    def original(self, record: "NoteRecord") -> bytes | None:
        return self._get(record.id, "original", record.image, DETAIL_SIZE)
