"""Note finding on real notes, measured two ways.

Run:  .venv/bin/python benchmarks/real_outline.py [--scenes 300] [--empty 100] [--quick] [--data DIR]
      [--cache DIR] [--sheets docs/real_outlines] [--verbose]

1. **Known corners.** Each real IRR photo (``irr_phone_crops``: the whole crop is the note) is pasted under a
   camera's perspective onto a procedural table, cloth, paper, tiles or shirt among clutter, with fingers,
   pens, cables, coins or a phone over it, shadows, glare, folds, white balance, blur and JPEG
   (:mod:`banknote_guard.data.rectify.scenes`), filling 10-90 % of the frame. An outline is right when its
   farthest corner is within 3 % of the note's diagonal of the true one. Captures with no note at all
   (the same surfaces and clutter) must come out ``found=False``.
2. **Hand-held photos.** Every INR photo (``inr_handheld``: hand-held or on cluttered tables, fingers,
   folds, glare) is drawn with the outline found into contact sheets (``--sheets``), to be looked at and
   counted by eye. ``docs/real_outlines/checked.csv`` keeps the verdict given by eye to each photo's
   outcome (``right``: the outline lies on the note's edges; ``wrong``: an outline elsewhere; ``missed``:
   no outline although a note is there) with its corners: the script compares today's outcomes with it
   and prints which photos now differ, so only those need another look (their numbers are yellow).

Scenes are generated once and cached as the JPEG files they are (``--cache``). Speed is the median of
``rectify_note`` per capture (wall and thread CPU time; 1 OpenCV thread).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchutil import machine_header  # noqa: E402

from banknote_guard.data.imageio import load_image  # noqa: E402
from banknote_guard.data.rectify import rectify_note  # noqa: E402
from banknote_guard.data.rectify.scenes import VERSION, corner_error, decode_jpeg, empty_scene, paste_scene  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "realdata"
TOLERANCE = 0.03
TILE = 300
COLUMNS, ROWS = 5, 4


@dataclass
class Outcome:
    """One capture's outcome: found, the relative corner error, the time taken."""

    found: bool
    error: float  # farthest corner / diagonal; inf when not found
    wall_ms: float
    cpu_ms: float
    fill: float = 0.0
    occluded: bool = False


def _timed(rgb: np.ndarray):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.thread_time()
    res = rectify_note(rgb)
    return res, (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000


def _irr_notes(data: Path) -> list[Path]:
    return sorted((data / "irr_phone_crops").glob("IRR/*/genuine/*.jpg"))


def _cached_scene(cache: Path, note_path: Path, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The scene of ``note_path`` under ``seed``, from the cache when it is there."""
    stem = f"{note_path.parent.parent.name}_{note_path.stem}_{seed}"
    img_path, meta_path = cache / f"{stem}.jpg", cache / f"{stem}.json"
    if img_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return decode_jpeg(img_path.read_bytes()), np.array(meta["corners"], np.float32), meta
    scene = paste_scene(load_image(note_path), seed)
    meta = {"corners": scene.corners.tolist(), "fill": scene.fill, "background": scene.background,
            "occluders": scene.occluders, "effects": scene.effects}
    cache.mkdir(parents=True, exist_ok=True)
    tmp = img_path.with_suffix(".tmp")
    tmp.write_bytes(scene.jpeg)  # the scene's last step is a JPEG encoding: these are its bytes
    tmp.replace(img_path)
    meta_path.write_text(json.dumps(meta))
    return scene.rgb, scene.corners, meta


def measure_pasted(data: Path, n: int, cache: Path, verbose: bool) -> list[Outcome]:
    notes = _irr_notes(data)
    outcomes = []
    for i in range(n):
        note = notes[i % len(notes)]
        rgb, corners, meta = _cached_scene(cache, note, 7000 + i)
        res, wall, cpu = _timed(rgb)
        diag = float(np.linalg.norm(corners[2] - corners[0]))
        err = corner_error(res.corners, corners) / diag if res.found else float("inf")
        outcomes.append(Outcome(res.found, err, wall, cpu, meta["fill"], bool(meta["occluders"])))
        if verbose and not err < TOLERANCE:
            print(f"  scene {i} ({note.name}, fill {meta['fill']:.2f}, {meta['background']}, "
                  f"over it: {meta['occluders']}, {meta['effects']}): "
                  + (f"error {100 * err:.1f}% of the diagonal" if res.found else "not found"))
    return outcomes


def _rate(ok: int, n: int) -> str:
    return f"{ok}/{n} ({100 * ok / max(n, 1):.1f}%)"


def report_pasted(outcomes: list[Outcome]) -> None:
    n = len(outcomes)
    ok = [o.error < TOLERANCE for o in outcomes]
    found = sum(o.found for o in outcomes)
    wrong = sum(o.found and not o.error < TOLERANCE for o in outcomes)
    print(f"pasted real notes (IRR crops): n={n}  outline within 3% of the diagonal: {_rate(sum(ok), n)}  "
          f"within 2%: {_rate(sum(o.error < 0.02 for o in outcomes), n)}")
    print(f"  found {_rate(found, n)}; found but wrong (outline off by 3% or more): {_rate(wrong, n)}")
    for lo, hi in ((0.1, 0.3), (0.3, 0.6), (0.6, 0.91)):
        sel = [k for k, o in enumerate(outcomes) if lo <= o.fill < hi]
        rate = _rate(sum(ok[k] for k in sel), len(sel))
        print(f"  note fills {100 * lo:.0f}-{min(100 * hi, 90):.0f}% of the frame: {rate}")
    for label, flag in (("with something over the note", True), ("with nothing over it", False)):
        sel = [k for k, o in enumerate(outcomes) if o.occluded == flag]
        print(f"  {label}: {_rate(sum(ok[k] for k in sel), len(sel))}")
    _speed("  speed", outcomes)


def _speed(label: str, outcomes: list[Outcome]) -> None:
    wall = np.array([o.wall_ms for o in outcomes])
    cpu = np.array([o.cpu_ms for o in outcomes])
    print(f"{label}: rectify_note wall ms median {np.median(wall):.1f} p95 {np.percentile(wall, 95):.1f}; "
          f"cpu ms median {np.median(cpu):.1f} p95 {np.percentile(cpu, 95):.1f}")


def measure_empty(n: int, cache: Path) -> list[Outcome]:
    outcomes = []
    for i in range(n):
        path = cache / f"empty_{8000 + i}.jpg"
        if path.exists():
            rgb = decode_jpeg(path.read_bytes())
        else:
            rgb, jpeg, _ = empty_scene(8000 + i)
            cache.mkdir(parents=True, exist_ok=True)
            path.write_bytes(jpeg)
        res, wall, cpu = _timed(rgb)
        outcomes.append(Outcome(res.found, float("inf"), wall, cpu))
    return outcomes


# ---------------------------------------------------------------------------------------------
# hand-held photos: contact sheets and the verdicts given by eye


def _inr_photos(data: Path) -> list[Path]:
    photos = sorted((data / "inr_handheld").glob("INR/*/genuine/*.jpg"),
                    key=lambda p: (int(p.parent.parent.name), int(p.stem) if p.stem.isdigit() else 0, p.stem))
    return photos


def _key(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def load_checked(path: Path) -> dict[str, tuple[str, np.ndarray | None]]:
    """``photo -> (verdict, corners or None)`` from the file of verdicts given by eye."""
    out: dict[str, tuple[str, np.ndarray | None]] = {}
    if not path.exists():
        return out
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            corners = None if not row["corners"] else np.array(json.loads(row["corners"]), np.float32)
            out[row["photo"]] = (row["verdict"], corners)
    return out


def _same_outline(a: np.ndarray | None, b: np.ndarray | None, side: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return corner_error(a, b) < 0.015 * side


def _tile(rgb: np.ndarray, res, index: int, label_colour: tuple[int, int, int]) -> np.ndarray:  # type: ignore[no-untyped-def]
    h, w = rgb.shape[:2]
    s = TILE / max(h, w)
    im = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    tile = np.zeros((TILE, TILE, 3), np.uint8)
    tile[: im.shape[0], : im.shape[1]] = im
    if res.found:
        pts = (res.corners * s).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(tile, [pts], True, (0, 0, 0), 5, cv2.LINE_AA)
        cv2.polylines(tile, [pts], True, (0, 255, 0), 2, cv2.LINE_AA)
        cv2.circle(tile, tuple(int(v) for v in pts[0, 0]), 5, (255, 0, 255), -1)
    else:
        cv2.putText(tile, "not found", (10, TILE // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 5, cv2.LINE_AA)
        cv2.putText(tile, "not found", (10, TILE // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 60, 60), 2, cv2.LINE_AA)
    cv2.rectangle(tile, (0, 0), (58, 24), (0, 0, 0), -1)
    cv2.putText(tile, str(index), (3, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.65, label_colour, 2, cv2.LINE_AA)
    return tile


def measure_inr(data: Path, sheets: Path | None, checked_path: Path) -> list[Outcome]:
    photos = _inr_photos(data)
    checked = load_checked(checked_path)
    outcomes, tiles, changed = [], [], []
    verdicts: dict[str, int] = {"right": 0, "wrong": 0, "missed": 0}
    rows = []
    for i, path in enumerate(photos):
        rgb = load_image(path)
        res, wall, cpu = _timed(rgb)
        outcomes.append(Outcome(res.found, float("nan"), wall, cpu))
        corners = res.corners if res.found else None
        rows.append((i, _key(path), corners))
        verdict, ref = checked.get(_key(path), ("", None))
        same = bool(verdict) and _same_outline(corners, ref, float(max(rgb.shape[:2])))
        if same:
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
        else:
            changed.append(i)
        colour = (255, 255, 255) if same else (255, 230, 0)
        tiles.append(_tile(rgb, res, i, colour))
    n = len(photos)
    print(f"hand-held INR photos: n={n}  outline found {_rate(sum(o.found for o in outcomes), n)}")
    if checked:
        listed = f" (photos {', '.join(map(str, changed))})" if changed else ""
        print(f"  by eye (docs/real_outlines/checked.csv), outcomes unchanged since checked: outline right "
              f"{verdicts['right']}, outline wrong {verdicts['wrong']}, note missed (not found) {verdicts['missed']}; "
              f"changed or never checked: {len(changed)}{listed}")
    _speed("  speed", outcomes)
    if sheets is not None:
        sheets.mkdir(parents=True, exist_ok=True)
        per = COLUMNS * ROWS
        for k in range(0, len(tiles), per):
            chunk = tiles[k : k + per]
            chunk += [np.zeros_like(tiles[0])] * (per - len(chunk))
            sheet = np.vstack([np.hstack(chunk[r * COLUMNS : (r + 1) * COLUMNS]) for r in range(ROWS)])
            cv2.imwrite(str(sheets / f"inr_{k // per:02d}.jpg"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 80])
        with (sheets / "found.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["index", "photo", "corners"])
            for i, key, corners in rows:
                writer.writerow([i, key, "" if corners is None else json.dumps(np.round(corners, 1).tolist())])
        print(f"  contact sheets: {sheets}/inr_*.jpg ({(len(tiles) + per - 1) // per} sheets; tile number = index "
              f"in {sheets}/found.csv; yellow number = outline changed since checked by eye)")
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=300, help="pasted-note scenes with known corners")
    parser.add_argument("--empty", type=int, default=100, help="scenes without a note")
    parser.add_argument("--quick", action="store_true", help="60 scenes, 30 empty, no contact sheets")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder holding irr_phone_crops/, inr_handheld/")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/banknote_guard_bench/real_outline"),
                        help="where generated scenes are kept between runs")
    parser.add_argument("--sheets", type=Path, default=None, help="write INR contact sheets here")
    parser.add_argument("--checked", type=Path, default=ROOT / "docs" / "real_outlines" / "checked.csv")
    parser.add_argument("--skip-inr", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list the pasted scenes that fail")
    args = parser.parse_args()
    if args.quick:
        args.scenes, args.empty, args.sheets = min(args.scenes, 60), min(args.empty, 30), None
    cv2.setNumThreads(1)
    args.cache = args.cache / f"v{VERSION}"
    print(machine_header("Note finding on real notes"))
    if not _irr_notes(args.data):
        print(f"no real photos under {args.data} (irr_phone_crops/, inr_handheld/): nothing measured")
        return
    if args.scenes:
        report_pasted(measure_pasted(args.data, args.scenes, args.cache, args.verbose))
    if args.empty:
        empty = measure_empty(args.empty, args.cache)
        print(f"captures without a note: n={len(empty)}  outline found (wrongly) "
              f"{_rate(sum(o.found for o in empty), len(empty))}")
    if not args.skip_inr:
        measure_inr(args.data, args.sheets, args.checked)


if __name__ == "__main__":
    main()
