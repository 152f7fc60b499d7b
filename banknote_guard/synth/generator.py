"""Synthetic datasets of fictional banknotes: genuine captures and counterfeits, in the DESIGN.md §4 layout.

    OUT/<CURRENCY>/<DENOMINATION>/genuine/<name>.jpg
    OUT/<CURRENCY>/<DENOMINATION>/counterfeit/<name>.jpg
    OUT/manifest.csv       path,currency,denomination,side,label,method,seed
    OUT/corners.csv        path,x0,y0,x1,y1,x2,y2,x3,y3 (the note's corners TL,TR,BR,BL in each image)
    OUT/contact_sheet.png  genuine beside each counterfeit method, for people to look at

Every image depends only on (seed, currency, denomination, label, index), never on the number of
worker processes, so a dataset is reproducible from its options.
"""

from __future__ import annotations

import csv
import io
import logging
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from banknote_guard.data.records import COUNTERFEIT, GENUINE, MANIFEST_COLUMNS, MANIFEST_NAME
from banknote_guard.errors import BanknoteGuardError, ParameterError, parameter_error
from banknote_guard.fileio import atomic_write_bytes, atomic_write_text
from banknote_guard.progress import CancelToken, EtaEstimator, ProgressCallback, check_cancel, report
from banknote_guard.synth.capture import DIFFICULTIES, capture
from banknote_guard.synth.counterfeit import METHODS, counterfeit
from banknote_guard.synth.currencies import CURRENCIES, DENOMINATIONS
from banknote_guard.synth.design import SIDES, design_seed, make_serial, render_note

__all__ = ["METHODS", "MANIFEST_COLUMNS", "SynthOptions", "SynthSummary", "generate_dataset", "make_note_image"]

log = logging.getLogger(__name__)

IMAGE_FORMATS: tuple[str, ...] = ("jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp")


@dataclass
class SynthOptions:
    """What to generate.

    Attributes:
        currencies: number of fictional currencies (1..6).
        denominations_per_currency: denominations per currency (1..5), lowest first: 5, 10, 20, 50, 100.
        genuine_per_denomination: genuine images per denomination (sides alternate).
        counterfeit_per_denomination: counterfeit images per denomination, spread over ``methods``.
        methods: counterfeit methods to use (None = all of :data:`METHODS`).
        note_width: width of the note itself in the captures, in pixels.
        difficulty: "easy" (obvious counterfeits), "normal" or "hard" (cues subtle next to genuine
            variation at a glance, yet visible at full resolution: dots, toner, flat foil, wrong inks).
        photo_fraction: share of phone/webcam photos; the rest are flatbed scans.
        sides: which sides to draw.
        seed: master seed.
        jobs: worker processes (None = CPU count; 1 = in this process).
        contact_sheet: also write contact_sheet.png.
        image_format: file format of the images (jpg, png, ...).
    """

    currencies: int = 2
    denominations_per_currency: int = 4
    genuine_per_denomination: int = 40
    counterfeit_per_denomination: int = 20
    methods: tuple[str, ...] | None = None
    note_width: int = 640
    difficulty: Literal["easy", "normal", "hard"] = "normal"
    photo_fraction: float = 0.5
    sides: tuple[str, ...] = ("front", "back")
    seed: int = 0
    jobs: int | None = None
    contact_sheet: bool = True
    image_format: str = "jpg"

    def validate(self) -> None:
        """Raise :class:`ParameterError` for the first option outside its range."""
        owner = "SynthOptions"

        def _int(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not lo <= v <= hi:
                raise parameter_error(name, owner, f"an integer in [{lo}, {hi}]", v)

        _int("currencies", 1, len(CURRENCIES))
        _int("denominations_per_currency", 1, len(DENOMINATIONS))
        _int("genuine_per_denomination", 0, 100_000)
        _int("counterfeit_per_denomination", 0, 100_000)
        _int("note_width", 96, 4096)
        _int("seed", 0, 2**32 - 1)
        if self.jobs is not None:
            _int("jobs", 1, 256)
        if self.methods is not None:
            bad = [m for m in self.methods if m not in METHODS]
            if bad or not self.methods:
                raise parameter_error("methods", owner, f"a non-empty subset of {', '.join(METHODS)}", self.methods)
        if self.difficulty not in DIFFICULTIES:
            raise parameter_error("difficulty", owner, "one of 'easy', 'normal', 'hard'", self.difficulty)
        if not isinstance(self.photo_fraction, (int, float)) or not 0.0 <= float(self.photo_fraction) <= 1.0:
            raise parameter_error("photo_fraction", owner, "a number in [0, 1]", self.photo_fraction)
        if not self.sides or any(s not in SIDES for s in self.sides):
            raise parameter_error("sides", owner, "a non-empty subset of ('front', 'back')", self.sides)
        if self.image_format.lower().lstrip(".") not in IMAGE_FORMATS:
            raise parameter_error("image_format", owner, f"one of {', '.join(IMAGE_FORMATS)}", self.image_format)


@dataclass
class SynthSummary:
    """What :func:`generate_dataset` wrote.

    Attributes:
        out: the dataset folder.
        images: images written.
        per_label: images per label ("genuine", "counterfeit").
        seconds: wall time.
        images_per_second: ``images / seconds``.
        contact_sheet: path of contact_sheet.png, or None when not asked for.
        manifest: path of manifest.csv.
        failed: images that could not be made (each logged; the rest of the batch went on).
        per_method: counterfeit images per method.
    """

    out: Path
    images: int
    per_label: dict[str, int]
    seconds: float
    images_per_second: float
    contact_sheet: Path | None
    manifest: Path | None = None
    failed: int = 0
    per_method: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Task:
    rel_path: str
    currency: str
    denomination: str
    side: str
    label: str
    method: str
    seed: int
    kind: str


def _plan(options: SynthOptions) -> list[_Task]:
    """Every image to make, in a fixed order, each with its own seed."""
    methods = tuple(options.methods) if options.methods else METHODS
    ext = options.image_format.lower().lstrip(".")
    tasks: list[_Task] = []
    for spec in CURRENCIES[: options.currencies]:
        for di, den in enumerate(DENOMINATIONS[: options.denominations_per_currency]):
            usable = tuple(m for m in methods if not (m == "raised_denomination" and di == 0)) or methods
            for label, count in ((GENUINE, options.genuine_per_denomination),
                                 (COUNTERFEIT, options.counterfeit_per_denomination)):
                order_rng = np.random.default_rng(design_seed("order", options.seed, spec.code, den, label))
                offset = int(order_rng.integers(0, len(usable)))
                for i in range(count):
                    seed = design_seed("image", options.seed, spec.code, den, label, i)
                    pick = np.random.default_rng(seed)
                    side = options.sides[i % len(options.sides)]
                    kind = "photo" if pick.random() < options.photo_fraction else "scan"
                    method = usable[(i + offset) % len(usable)] if label == COUNTERFEIT else ""
                    if label == GENUINE:
                        name = f"{spec.code}_{den}_{side}_g{i:05d}.{ext}"
                    else:
                        name = f"{spec.code}_{den}_{side}_{method}_{i:05d}.{ext}"
                    tasks.append(_Task(f"{spec.code}/{den}/{label}/{name}", spec.code, den, side, label, method,
                                       seed, kind))
    return tasks


def make_note_image(currency: str, denomination: str, side: str, *, label: str, method: str, seed: int,
                    kind: str, width: int, difficulty: str) -> tuple[np.ndarray, np.ndarray]:
    """Make one captured image exactly as the generator does.

    Returns:
        The captured RGB image and the note's corners in it (TL, TR, BR, BL).
    """
    rng = np.random.default_rng(seed)
    rng.random()  # the draw _plan used for the capture kind
    note = render_note(currency, denomination, side, serial=make_serial(currency, rng), width=width, rng=rng)
    if label == COUNTERFEIT:
        note = counterfeit(note, method, rng, difficulty=difficulty, currency=currency, denomination=denomination,
                           side=side)
    return capture(note, rng, kind=kind, difficulty=difficulty)


def _encode(rgb: np.ndarray, ext: str) -> bytes:
    params: list[int] = []
    if ext in ("jpg", "jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, 95]
    ok, buf = cv2.imencode("." + ext, np.ascontiguousarray(rgb[..., ::-1]), params)
    if not ok:
        raise BanknoteGuardError(f"OpenCV could not encode a .{ext} image.")
    return buf.tobytes()


def _work(out: str, tasks: list[_Task], width: int, difficulty: str, ext: str) -> list[tuple[_Task, list[float] | str]]:
    """Make and write a chunk of images; return the corners of each, or the error message."""
    cv2.setNumThreads(1)
    results: list[tuple[_Task, list[float] | str]] = []
    for t in tasks:
        try:
            img, corners = make_note_image(t.currency, t.denomination, t.side, label=t.label, method=t.method,
                                           seed=t.seed, kind=t.kind, width=width, difficulty=difficulty)
            atomic_write_bytes(Path(out) / t.rel_path, _encode(img, ext))
            results.append((t, [float(v) for v in corners.ravel()]))
        except Exception as exc:  # one bad image never stops the batch
            results.append((t, f"{type(exc).__name__}: {exc}"))
    return results


def _is_synth_output(out: Path) -> bool:
    manifest = out / MANIFEST_NAME
    try:
        with open(manifest, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
    except OSError:
        return False
    return tuple(header) == MANIFEST_COLUMNS


def _clear_previous(out: Path) -> None:
    """Delete the files an earlier run listed in its manifest (nothing else), then empty folders."""
    with open(out / MANIFEST_NAME, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        p = (out / row["path"]).resolve()
        if out.resolve() in p.parents:
            p.unlink(missing_ok=True)
    for name in (MANIFEST_NAME, "corners.csv", "contact_sheet.png"):
        (out / name).unlink(missing_ok=True)
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            pass


def generate_dataset(out: str | Path, options: SynthOptions | None = None, *, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None, overwrite: bool = False) -> SynthSummary:
    """Write a synthetic dataset to ``out``.

    Args:
        out: dataset folder; created if missing. A non-empty folder is refused unless it is an earlier
            synth output (whose listed files are replaced) or ``overwrite`` is True (files are written
            over, nothing else is deleted).
        options: what to generate (defaults: :class:`SynthOptions`).
        progress: progress callback (stage "synth").
        cancel: cancellation token, checked between images.
        overwrite: accept a non-empty folder that is not a synth output.

    Returns:
        A :class:`SynthSummary`.

    Raises:
        ParameterError: for bad options or a non-empty foreign ``out``.
        CancelledError: when cancelled (files written so far stay; no manifest is written).
    """
    options = options or SynthOptions()
    options.validate()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"The output {str(out)!r} is a file; give a folder for the synthetic dataset.")
    if out.is_dir() and any(out.iterdir()):
        if _is_synth_output(out):
            _clear_previous(out)
        elif not overwrite:
            raise ParameterError(
                f"The output folder {str(out)!r} is not empty and is not an earlier synthetic dataset "
                "(it has no synth manifest.csv). Choose an empty folder, or pass --overwrite to write into it.")
    out.mkdir(parents=True, exist_ok=True)
    ext = options.image_format.lower().lstrip(".")
    tasks = _plan(options)
    total = len(tasks)
    jobs = options.jobs or os.cpu_count() or 1
    jobs = max(1, min(jobs, total // 8 + 1))
    start = time.monotonic()
    eta = EtaEstimator(total)
    corners: dict[str, list[float]] = {}
    written: list[_Task] = []
    failed = 0
    report(progress, "synth", "drawing notes", done=0, total=total)

    def _collect(results: list[tuple[_Task, list[float] | str]]) -> None:
        nonlocal failed
        for t, res in results:
            if isinstance(res, str):
                failed += 1
                log.warning("Could not make %s: %s", t.rel_path, res)
            else:
                written.append(t)
                corners[t.rel_path] = res
        done = len(written) + failed
        report(progress, "synth", "drawing notes", done=done, total=total, eta_s=eta.eta(done))

    chunk = 4
    chunks = [tasks[i:i + chunk] for i in range(0, total, chunk)]
    if jobs == 1:
        for c in chunks:
            check_cancel(cancel)
            _collect(_work(str(out), c, options.note_width, options.difficulty, ext))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            pending: set[Future] = set()
            queue = iter(chunks)
            try:
                for c in queue:
                    pending.add(pool.submit(_work, str(out), c, options.note_width, options.difficulty, ext))
                    if len(pending) >= jobs * 3:
                        break
                while pending:
                    check_cancel(cancel)
                    done_set, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    for f in done_set:
                        _collect(f.result())
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending.add(pool.submit(_work, str(out), nxt, options.note_width, options.difficulty,
                                                    ext))
            except BaseException:
                for f in pending:
                    f.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    order = {t.rel_path: i for i, t in enumerate(tasks)}
    written.sort(key=lambda t: order[t.rel_path])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(MANIFEST_COLUMNS)
    for t in written:
        w.writerow([t.rel_path, t.currency, t.denomination, t.side, t.label, t.method, t.seed])
    atomic_write_text(out / MANIFEST_NAME, buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["path", "x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3"])
    for t in written:
        w.writerow([t.rel_path] + [f"{v:.2f}" for v in corners[t.rel_path]])
    atomic_write_text(out / "corners.csv", buf.getvalue())
    seconds = time.monotonic() - start
    sheet: Path | None = None
    if options.contact_sheet:
        check_cancel(cancel)
        from banknote_guard.synth.contact_sheet import write_contact_sheet

        report(progress, "synth", "contact sheet", done=total, total=total)
        sheet = write_contact_sheet(out / "contact_sheet.png", options)
    per_label = {label: sum(t.label == label for t in written) for label in (GENUINE, COUNTERFEIT)}
    per_method: dict[str, int] = {}
    for t in written:
        if t.method:
            per_method[t.method] = per_method.get(t.method, 0) + 1
    return SynthSummary(out=out, images=len(written), per_label=per_label, seconds=seconds,
                        images_per_second=len(written) / max(seconds, 1e-9), contact_sheet=sheet,
                        manifest=out / MANIFEST_NAME, failed=failed, per_method=per_method)


def read_corners(out: str | Path) -> dict[str, np.ndarray]:
    """Read OUT/corners.csv: relative path -> (4, 2) corners (TL, TR, BR, BL) of the note in that image."""
    result: dict[str, np.ndarray] = {}
    with open(Path(out) / "corners.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            vals = [float(row[k]) for k in ("x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3")]
            result[row["path"]] = np.array(vals, np.float32).reshape(4, 2)
    return result

