"""A contact sheet for people: genuine captures, then each counterfeit method beside the same genuine note.

Each method row shows the genuine note and its counterfeit captured under identical conditions (same
capture seed), whole and as a 1:1 crop, so the eye sees only what the counterfeit process changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from banknote_guard.fileio import atomic_write_bytes
from banknote_guard.synth.capture import capture
from banknote_guard.synth.counterfeit import METHODS, counterfeit
from banknote_guard.synth.currencies import CURRENCIES, DENOMINATIONS
from banknote_guard.synth.design import design_seed, make_serial, render_note

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.synth.generator import SynthOptions

SHEET_WIDTH = 1600
_LABEL_W = 160


def _fit(img: np.ndarray, w: int, h: int, bg: int = 255) -> np.ndarray:
    """Scale ``img`` to fit (w, h) and centre it on a plain cell."""
    ih, iw = img.shape[:2]
    sc = min(w / iw, h / ih)
    small = cv2.resize(img, (max(1, int(iw * sc)), max(1, int(ih * sc))), interpolation=cv2.INTER_AREA)
    cell = np.full((h, w, 3), bg, np.uint8)
    y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    cell[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return cell


def _label(cell_h: int, text: str, sub: str = "") -> np.ndarray:
    cell = np.full((cell_h, _LABEL_W, 3), 255, np.uint8)
    cv2.putText(cell, text, (8, cell_h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 20), 1, cv2.LINE_AA)
    if sub:
        cv2.putText(cell, sub, (8, cell_h // 2 + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (90, 90, 90), 1, cv2.LINE_AA)
    return cell


def _crop_centre(img: np.ndarray, corners: np.ndarray, w: int, h: int, where: tuple[float, float]) -> np.ndarray:
    """A 1:1 crop of the captured image around a point given in note coordinates (0..1)."""
    u, v = where
    tl, tr, br, bl = corners
    p = (1 - u) * (1 - v) * tl + u * (1 - v) * tr + u * v * br + (1 - u) * v * bl
    x0 = int(np.clip(p[0] - w / 2, 0, max(0, img.shape[1] - w)))
    y0 = int(np.clip(p[1] - h / 2, 0, max(0, img.shape[0] - h)))
    crop = img[y0:y0 + h, x0:x0 + w]
    return _fit(crop, w, h) if crop.shape[:2] != (h, w) else crop


def build_contact_sheet(options: "SynthOptions") -> np.ndarray:
    """Draw the contact sheet (about 1600 px wide) for ``options`` and return it as RGB uint8."""
    currencies = [c.code for c in CURRENCIES[: options.currencies]]
    dens = list(DENOMINATIONS[: options.denominations_per_currency])
    cur = currencies[0]
    den = dens[min(2, len(dens) - 1)]
    width = options.note_width
    methods = [m for m in (options.methods or METHODS) if not (m == "raised_denomination" and den == DENOMINATIONS[0])]
    rows: list[np.ndarray] = []
    cell_w = (SHEET_WIDTH - _LABEL_W) // 4
    # row 1-2: genuine notes of several designs under different captures
    gallery: list[np.ndarray] = []
    combos = [(c, d, s) for c in currencies for d in dens for s in options.sides]
    rng0 = np.random.default_rng(design_seed("sheet", options.seed))
    picks = rng0.permutation(len(combos))[:8] if len(combos) > 8 else np.arange(len(combos))
    for n, idx in enumerate(picks):
        c, d, s = combos[int(idx)]
        rng = np.random.default_rng(design_seed("sheet-genuine", options.seed, n))
        note = render_note(c, d, s, serial=make_serial(c, rng), width=width, rng=rng)
        img, _ = capture(note, rng, kind="photo" if n % 2 else "scan", difficulty=options.difficulty)
        gallery.append(_fit(img, cell_w, int(cell_w * 0.72)))
    while len(gallery) % 4:
        gallery.append(np.full_like(gallery[0], 255))
    for i in range(0, len(gallery), 4):
        rows.append(np.hstack([_label(gallery[0].shape[0], "genuine" if i == 0 else "", "scans and photos"
                                      if i == 0 else "")] + gallery[i:i + 4]))
    # one row per method: genuine | counterfeit | genuine 1:1 | counterfeit 1:1
    row_h = int(cell_w * 0.62)
    head = np.full((34, SHEET_WIDTH, 3), 255, np.uint8)
    for k, t in enumerate(("genuine", "counterfeit (same capture)", "genuine 1:1", "counterfeit 1:1")):
        cv2.putText(head, t, (_LABEL_W + k * cell_w + 8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 20), 1,
                    cv2.LINE_AA)
    rows.append(head)
    for n, method in enumerate(methods):
        side = "front"
        rng = np.random.default_rng(design_seed("sheet-method", options.seed, method))
        note = render_note(cur, den, side, serial=make_serial(cur, rng), width=width, rng=rng)
        fake = counterfeit(note, method, rng, difficulty=options.difficulty, currency=cur, denomination=den, side=side)
        cap_seed = design_seed("sheet-capture", options.seed, n)
        kind = "scan" if n % 3 != 2 else "photo"
        g_img, g_c = capture(note, np.random.default_rng(cap_seed), kind=kind, difficulty=options.difficulty)
        f_img, f_c = capture(fake, np.random.default_rng(cap_seed), kind=kind, difficulty=options.difficulty)
        where = {"flat_hologram": (0.17, 0.5), "missing_security": (0.83, 0.5),
                 "raised_denomination": (0.15, 0.8)}.get(method, (0.6, 0.45))
        if CURRENCIES[0].mirror:
            where = (1 - where[0], where[1])
        cells = [
            _label(row_h, method, options.difficulty),
            _fit(g_img, cell_w, row_h),
            _fit(f_img, cell_w, row_h),
            _crop_centre(g_img, g_c, cell_w, row_h, where),
            _crop_centre(f_img, f_c, cell_w, row_h, where),
        ]
        rows.append(np.hstack(cells))
    sheet = np.vstack([np.pad(r, ((3, 3), (0, SHEET_WIDTH - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    return sheet


def write_contact_sheet(path: str | Path, options: "SynthOptions") -> Path:
    """Draw the contact sheet and write it as a PNG (atomically). Returns the path."""
    sheet = build_contact_sheet(options)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(sheet[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    path = Path(path)
    if ok:
        atomic_write_bytes(path, buf.tobytes())
    return path
