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

from banknote_guard.verify.local_evidence import HEATMAP_VERDICTS, heat_alpha

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

    def why(self, record: "NoteRecord") -> bytes | None:
        """The straightened note with the heat map of local evidence drawn over it (why suspect), for
        suspect and uncertain notes whose record keeps a heat map; else None."""
        key = (record.id, "why")
        if key not in self._cache:
            self._cache[key] = None
            if record.heatmap is not None and record.verdict in HEATMAP_VERDICTS:
                self._cache[key] = heatmap_jpeg(self.note(record), record.heatmap, record.regions)
        return self._cache[key]

    def scored(self, record: "NoteRecord") -> tuple[bytes | None, str]:
        """The straightened note for a detail section and its caption: with the heat map where there
        is one (:meth:`why`), else as scored."""
        why = self.why(record)
        if why is not None:
            return why, WHY_CAPTION
        return self.note(record), "straightened note as scored"


def why_suspect_picture(record: "NoteRecord") -> bytes | None:
    """A record's straightened note with the heat map of why it is suspect drawn over it (JPEG), or None
    when the record is not suspect or uncertain, keeps no heat map, or its pictures cannot be used."""
    return Pictures().why(record)


#: Caption of a straightened note drawn with its heat map.
WHY_CAPTION = "straightened note as scored; red where it differs from genuine notes, boxes: most different first"
#: Colours of the heat map: the tint of deviating cells, the region boxes and their number tags.
HEAT_RGB, BOX_RGB, TAG_RGB = (220, 38, 38), (255, 212, 0), (31, 31, 31)


def heatmap_jpeg(note_jpeg: bytes | None, heatmap: list[list[float | None]], regions: list[dict],
                 quality: int = 85) -> bytes | None:
    """The straightened note ``note_jpeg`` with each heat-map cell tinted red by its deviation (as on the
    result card) and the regions outlined and numbered; None when the note or the heat map cannot be used."""
    from PIL import ImageDraw

    im = _open(note_jpeg)
    if im is None or not heatmap or not heatmap[0]:
        return None
    try:
        im = im.convert("RGB")
        w, h = im.size
        rows, cols = len(heatmap), len(heatmap[0])
        overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for r, row in enumerate(heatmap):
            for c, v in enumerate(row):
                alpha = heat_alpha(v)
                if alpha > 0:
                    draw.rectangle([round(c * w / cols), round(r * h / rows), round((c + 1) * w / cols) - 1,
                                    round((r + 1) * h / rows) - 1], fill=(*HEAT_RGB, int(round(153 * alpha))))
        out = Image.alpha_composite(im.convert("RGBA"), overlay).convert("RGB")
        draw = ImageDraw.Draw(out)
        line = max(2, w // 250)
        font_size = max(11, h // 14)
        try:
            from PIL import ImageFont

            font = ImageFont.load_default(size=font_size)
        except TypeError:  # an old Pillow without sized default fonts
            font = ImageFont.load_default()
        for i, reg in enumerate(regions, 1):
            frac = reg.get("box_fraction")
            if not frac or len(frac) != 4:
                continue
            x0, y0, x1, y1 = (float(v) for v in frac)
            box = [x0 * w + line / 2, y0 * h + line / 2, x1 * w - line / 2, y1 * h - line / 2]
            draw.rectangle(box, outline=BOX_RGB, width=line)
            tl, tt, tr, tb = draw.textbbox((0, 0), str(i), font=font)
            pad = max(2, font_size // 6)
            draw.rectangle([box[0], box[1], box[0] + (tr - tl) + 2 * pad, box[1] + (tb - tt) + 2 * pad], fill=TAG_RGB)
            draw.text((box[0] + pad - tl, box[1] + pad - tt), str(i), fill=BOX_RGB, font=font)
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=quality)
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - a heat map that cannot be drawn costs the drawing, never the report
        log.debug("heat map could not be drawn", exc_info=True)
        return None
