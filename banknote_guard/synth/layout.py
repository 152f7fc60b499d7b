"""Where the features of a synthetic note are: named boxes on the upright note, as fractions of its size.

Used to name the regions that local evidence points at ("security thread", "foil patch", "numeral",
...) for the fictional currencies of :mod:`~banknote_guard.synth.currencies`; real currencies have no
known layout here, so their regions stay unnamed.
"""

from __future__ import annotations

import numpy as np

from banknote_guard.synth.currencies import CURRENCIES, DENOMINATIONS
from banknote_guard.synth.design import note_design, render_note

#: Width at which layouts are measured (boxes are returned as fractions, so any width would do).
LAYOUT_WIDTH = 640
SIDES = ("front", "back")

Box = tuple[float, float, float, float]


def is_synthetic(denom_id: str) -> bool:
    """Whether ``denom_id`` ("KRT/10") is a denomination of a fictional currency of the generator."""
    currency, _, denomination = str(denom_id).partition("/")
    return currency in {c.code for c in CURRENCIES} and denomination in DENOMINATIONS


def side_layout(denom_id: str, side: str) -> list[tuple[str, Box]]:
    """Named boxes of one side of a synthetic denomination, as fractions (x0, y0, x1, y1) of the note.

    Small, specific features come first (a region takes the name it overlaps most, so order only
    breaks ties).
    """
    currency, _, denomination = str(denom_id).partition("/")
    d = note_design(currency, denomination, side, LAYOUT_WIDTH)
    w, h = float(d.width), float(d.height)

    def frac(b: tuple[int, int, int, int]) -> Box:
        return (b[0] / w, b[1] / h, b[2] / w, b[3] / h)

    out: list[tuple[str, Box]] = []
    if d.holo_box is not None:
        out.append(("foil patch", frac(d.holo_box)))
    out.append(("security thread", frac(d.thread_box)))
    out.append(("watermark window", frac(d.window_box)))
    out += [("numeral", frac(b)) for b in d.numeral_boxes]
    for x, y, scale, thick, _ in d.serial_spots:
        import cv2

        (tw, th), base = cv2.getTextSize("AB1234567", cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        out.append(("serial number", frac((x, y - th, x + tw, y + base))))
    if d.motif_box is not None:
        out.append(("portrait" if side == "front" else "building", frac(d.motif_box)))
    return out


def side_images(denom_id: str, height: int, width: int) -> dict[str, np.ndarray]:
    """Upright renderings of both sides of a synthetic denomination at the given size (uint8 RGB)."""
    import cv2

    currency, _, denomination = str(denom_id).partition("/")
    out = {}
    for side in SIDES:
        img = render_note(currency, denomination, side, serial="AB1234567", width=LAYOUT_WIDTH,
                          rng=np.random.default_rng(0))
        out[side] = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return out
