"""Dataset discovery, validation and inspection.

A dataset is a folder in the layout::

    DATASET/<CURRENCY>/<DENOMINATION>/genuine/*.jpg
    DATASET/<CURRENCY>/<DENOMINATION>/counterfeit/*.jpg      (optional)

:func:`discover_dataset` lists its images (raising :class:`~banknote_guard.errors.DatasetLayoutError`
with the offending folder when the layout is broken); :func:`inspect_dataset` also reads every image
and reports counts, sizes, methods and problems worth a look (duplicates, label conflicts, too few
images, denominations without genuine images, imbalance, unreadable and non-image files, and
whatever was skipped).

The walk stays inside the dataset: a folder or link whose real location is outside the dataset
folder is not entered (a ``genuine`` link to ``/`` would otherwise walk the whole disk), each real
folder is walked once, folder sizes and the number of folders are bounded
(:data:`MAX_FOLDER_ENTRIES`, :data:`MAX_FOLDERS`), and only regular files are read (a pipe named
like an image would block reading for ever). Each thing left out gets a warning saying why.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from scipy.spatial.distance import cdist

from banknote_guard.data.imageio import (
    IMAGE_EXTENSIONS,
    MIN_NOTE_SIDE,
    decode_image_bytes_with_size,
    is_hidden_name,
    non_regular_reason,
    read_image_bytes,
)
from banknote_guard.data.records import GENUINE, LABELS, Dataset, ImageRecord, Label, denomination_id
from banknote_guard.errors import DatasetLayoutError, ImageLoadError
from banknote_guard.progress import CancelToken, EtaEstimator, ProgressCallback, check_cancel, report

log = logging.getLogger(__name__)

#: Files at the dataset root that are not part of the layout (written by the generator or by people).
ROOT_IGNORED_NAMES = frozenset({"manifest.csv", "contact_sheet.png"})

#: A denomination with fewer genuine images than this gets a warning.
MIN_GENUINE = 5
#: counterfeit:genuine ratios outside [1/MAX_IMBALANCE_LOW, MAX_IMBALANCE_HIGH] get a warning.
MAX_IMBALANCE_HIGH = 5.0
MAX_IMBALANCE_LOW = 20.0
#: Side of the grayscale thumbnail compared to find the same picture under both labels.
THUMB_SIDE = 16
#: Side of the coarse colour thumbnail compared alongside it (JPEG blurs colour, so it is coarse).
COLOUR_SIDE = 4
#: Mean absolute differences (0-255 scale) below which two pictures are the same one.
SAME_PICTURE_MAD = 3.0
SAME_COLOUR_MAD = 12.0
#: At most this many entries of one folder are looked at; a larger folder gets a warning.
MAX_FOLDER_ENTRIES = 100_000
#: At most this many folders are walked inside the genuine/ and counterfeit/ folders of a dataset.
MAX_FOLDERS = 20_000


# --------------------------------------------------------------------------------------------------
# discovery


def _label_of(name: str) -> Label | None:
    low = name.lower()
    return low if low in LABELS else None  # type: ignore[return-value]


def _list_folder(folder: Path) -> tuple[list[Path], bool]:
    """The non-hidden entries of ``folder``, sorted, and whether the listing stopped at :data:`MAX_FOLDER_ENTRIES`."""
    out: list[Path] = []
    with os.scandir(folder) as it:
        for n, entry in enumerate(it):
            if n >= MAX_FOLDER_ENTRIES:
                return sorted(out), True
            if not is_hidden_name(entry.name):
                out.append(Path(entry.path))
    return sorted(out), False


def _entries(folder: Path) -> list[Path]:
    try:
        return _list_folder(folder)[0]
    except PermissionError:
        raise DatasetLayoutError(folder, "This folder cannot be read (permission denied)") from None
    except OSError as exc:
        raise DatasetLayoutError(folder, f"This folder cannot be read ({exc.strerror or exc})") from None


def _looks_like_denomination(folder: Path) -> bool:
    try:
        entries = _list_folder(folder)[0]
    except OSError:
        return False
    return any(_label_of(p.name) and os.path.isdir(p) for p in entries)


@dataclass
class _Scan:
    """What the walk of a dataset found; ``notes`` are the problems met on the way."""

    root: Path
    records: list[ImageRecord] = field(default_factory=list)
    non_images: list[Path] = field(default_factory=list)
    denominations: list[tuple[str, str]] = field(default_factory=list)
    notes: list[DatasetWarning] = field(default_factory=list)


class _Walker:
    """Walks the folders of one dataset, never leaving it and never for ever.

    A folder (or a link to one) whose real location is outside the dataset folder is not entered,
    each real folder is walked once (links cannot make loops), at most :data:`MAX_FOLDER_ENTRIES`
    entries of a folder and :data:`MAX_FOLDERS` folders are looked at, and only regular files are
    listed. Every folder or file left out gets a note saying why.
    """

    def __init__(self, scan: _Scan) -> None:
        self.scan = scan
        self.root_real = os.path.realpath(scan.root)
        self.visited: set[str] = set()
        self.folders = 0
        self.skipped_files: dict[str, list[Path]] = {}

    def rel(self, p: Path) -> str:
        try:
            return p.relative_to(self.scan.root).as_posix()
        except ValueError:
            return str(p)

    def note(self, code: str, message: str, paths: tuple[Path, ...] = (), denom_id: str | None = None) -> None:
        self.scan.notes.append(DatasetWarning(code, message, paths, denom_id))

    def entries(self, folder: Path) -> list[Path]:
        """The entries of a folder below the root; an unreadable one is noted and counts as empty."""
        try:
            entries, cut = _list_folder(folder)
        except OSError as exc:
            reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
            self.note("skipped", f"{self.rel(folder)}: this folder cannot be read ({reason}); skipped", (folder,))
            return []
        if cut:
            self.note(
                "folder_too_large",
                f"{self.rel(folder)}: holds more than {MAX_FOLDER_ENTRIES:,} entries; only "
                f"{MAX_FOLDER_ENTRIES:,} of them were looked at (split it into smaller folders)",
                (folder,),
            )
        return entries

    def inside(self, folder: Path) -> bool:
        """Whether ``folder`` really lies in the dataset; a folder that leads out of it is noted."""
        real = os.path.realpath(folder)
        if real == self.root_real or real.startswith(self.root_real.rstrip(os.sep) + os.sep):
            return True
        self.note(
            "skipped",
            f"{self.rel(folder)}: leads out of the dataset folder (to {real}); not followed, skipped",
            (folder,),
        )
        return False

    def files(self, top: Path) -> Iterator[Path]:
        """The regular, non-hidden files under ``top`` (which must be :meth:`inside`)."""
        stack = [top]
        while stack:
            folder = stack.pop()
            real = os.path.realpath(folder)
            if real in self.visited:  # reached again through a link
                self.note(
                    "skipped",
                    f"{self.rel(folder)}: leads to a folder already looked at ({real}); skipped",
                    (folder,),
                )
                continue
            self.visited.add(real)
            self.folders += 1
            if self.folders > MAX_FOLDERS:
                if self.folders == MAX_FOLDERS + 1:
                    self.note(
                        "folder_too_large",
                        f"the dataset holds more than {MAX_FOLDERS:,} folders; the others, such as "
                        f"{self.rel(folder)}, were not looked at",
                        (folder,),
                    )
                continue
            subfolders: list[Path] = []
            for p in self.entries(folder):
                try:
                    mode = os.stat(p).st_mode
                except FileNotFoundError:
                    self.skip_file(p, "a link to a file that does not exist")
                    continue
                except OSError as exc:
                    self.skip_file(p, f"cannot be read ({exc.strerror or exc})")
                    continue
                if stat.S_ISDIR(mode):
                    if self.inside(p):
                        subfolders.append(p)
                    continue
                reason = non_regular_reason(mode)
                if reason is None:
                    yield p
                else:
                    self.skip_file(p, reason)
            stack.extend(reversed(subfolders))

    def skip_file(self, p: Path, reason: str) -> None:
        self.skipped_files.setdefault(reason, []).append(p)

    def finish(self) -> None:
        for reason, paths in self.skipped_files.items():
            if len(paths) == 1:
                message = f"{self.rel(paths[0])}: {reason}; skipped"
            else:
                message = f"{len(paths)} files were skipped: {reason}"
            self.note("skipped", message, tuple(sorted(paths)))
        self.skipped_files.clear()


def _scan(root: str | Path) -> _Scan:
    """Walk the layout; return the image records (no manifest yet), non-image files and notes."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetLayoutError(root, "The dataset folder does not exist")
    if not root.is_dir():
        raise DatasetLayoutError(root, "The dataset path is a file, not a folder")
    entries = _entries(root)
    if not entries:
        raise DatasetLayoutError(root, "The dataset folder is empty")
    # Pointed at the wrong level?
    if _label_of(root.name) and any(p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS for p in entries):
        raise DatasetLayoutError(
            root,
            f"This is a {root.name!r} folder of one denomination, not a dataset; "
            f"choose the dataset folder {str(root.parent.parent.parent)!r} instead",
        )
    if _looks_like_denomination(root):
        raise DatasetLayoutError(
            root,
            "This looks like a denomination folder (it holds genuine/ or counterfeit/), not a dataset; "
            f"choose the dataset folder {str(root.parent.parent)!r} instead",
        )
    scan = _Scan(root)
    walker = _Walker(scan)
    subdirs = [p for p in entries if os.path.isdir(p)]
    if subdirs and all(_looks_like_denomination(d) for d in subdirs):
        raise DatasetLayoutError(
            root,
            "This looks like a currency folder (its sub-folders hold genuine/ or counterfeit/), not a dataset; "
            f"choose the dataset folder {str(root.parent)!r} instead",
        )
    _refuse_stray_images(
        root,
        entries,
        "Images lie directly in the dataset folder ({few}); put them in "
        "<CURRENCY>/<DENOMINATION>/genuine/ or .../counterfeit/",
        ignore=ROOT_IGNORED_NAMES,
    )

    for currency_dir in (p for p in subdirs if walker.inside(p)):
        currency = currency_dir.name
        cur_entries = walker.entries(currency_dir)
        _refuse_stray_images(
            currency_dir,
            cur_entries,
            f"Images lie directly in the currency folder {currency!r} ({{few}}); "
            "put them in <DENOMINATION>/genuine/ or <DENOMINATION>/counterfeit/",
        )
        denom_dirs = [p for p in cur_entries if os.path.isdir(p)]
        if not denom_dirs:
            walker.note(
                "empty_folder",
                f"{currency}: the currency folder holds no denomination folders",
                (currency_dir,),
            )
        for denom_dir in (p for p in denom_dirs if walker.inside(p)):
            _scan_denomination(walker, currency, denom_dir)
    walker.finish()
    if not scan.records:
        raise DatasetLayoutError(root, "The dataset holds no images")
    scan.records.sort(key=lambda r: (r.currency, r.denomination, LABELS.index(r.label), str(r.path)))
    scan.non_images.sort()
    return scan


def _scan_denomination(walker: _Walker, currency: str, denom_dir: Path) -> None:
    scan = walker.scan
    denom_entries = walker.entries(denom_dir)
    _refuse_stray_images(
        denom_dir,
        denom_entries,
        f"Images lie directly in the denomination folder {denom_dir.name!r} ({{few}}); "
        "put them in genuine/ or counterfeit/ inside it",
    )
    label_dirs = [p for p in denom_entries if os.path.isdir(p)]
    unexpected = [p.name for p in label_dirs if not _label_of(p.name)]
    if unexpected:
        raise DatasetLayoutError(
            denom_dir,
            f"Unexpected sub-folder(s) {_few(unexpected)} in denomination {denom_dir.name!r}; "
            "the only folders allowed there are 'genuine' and 'counterfeit'",
        )
    if not label_dirs:
        raise DatasetLayoutError(
            denom_dir,
            f"The denomination folder {denom_dir.name!r} has neither a genuine/ nor a counterfeit/ folder",
        )
    denom_id = denomination_id(currency, denom_dir.name)
    scan.denominations.append((currency, denom_dir.name))
    n_genuine = 0
    usable = [p for p in label_dirs if walker.inside(p)]
    for label_dir in usable:
        label = _label_of(label_dir.name)
        assert label is not None
        for path in walker.files(label_dir):
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                scan.records.append(ImageRecord(path, currency, denom_dir.name, label))
                n_genuine += label == GENUINE
            else:
                scan.non_images.append(path)
    genuine_dirs = [p for p in label_dirs if _label_of(p.name) == GENUINE]
    if not genuine_dirs:
        walker.note(
            "no_genuine",
            f"{denom_id}: has no genuine/ folder, so it cannot be trained or enrolled; "
            f"put genuine images in {walker.rel(denom_dir / GENUINE)}/",
            (denom_dir,),
            denom_id,
        )
    elif n_genuine == 0:
        why = "holds no images" if any(p in usable for p in genuine_dirs) else "was skipped (see above)"
        walker.note(
            "no_genuine",
            f"{denom_id}: the genuine/ folder {why}, so it cannot be trained or enrolled",
            tuple(genuine_dirs),
            denom_id,
        )


def _refuse_stray_images(folder: Path, entries: list[Path], problem: str, ignore: frozenset[str] = frozenset()) -> None:
    """Raise when image files lie in a layout folder; ``problem`` has ``{few}`` where their names go."""
    stray = [
        p.name
        for p in entries
        if p.suffix.lower() in IMAGE_EXTENSIONS and p.name.lower() not in ignore and os.path.isfile(p)
    ]
    if stray:
        raise DatasetLayoutError(folder, problem.format(few=_few(stray)))


def _few(names: list[str], n: int = 3) -> str:
    shown = ", ".join(repr(x) for x in names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def _read_manifest(root: Path) -> dict[str, tuple[str | None, str | None]]:
    """``relative posix path -> (method, side)`` from ``root/manifest.csv``; empty when absent or unusable."""
    path = root / "manifest.csv"
    if not path.is_file():
        return {}
    out: dict[str, tuple[str | None, str | None]] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "path" not in reader.fieldnames:
                log.warning("%s has no 'path' column; ignoring it", path)
                return {}
            for row in reader:
                rel = (row.get("path") or "").strip().replace("\\", "/")
                if not rel:
                    continue
                method = (row.get("method") or "").strip() or None
                side = (row.get("side") or "").strip() or None
                out[rel] = (method, side)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("Cannot read %s (%s); ignoring it", path, exc)
        return {}
    return out


def discover_dataset(root: str | Path) -> Dataset:
    """List the images of a dataset, checking its layout.

    Args:
        root: the dataset folder (``DATASET`` in ``DATASET/<CURRENCY>/<DENOMINATION>/genuine/``).

    Returns:
        A :class:`~banknote_guard.data.records.Dataset` with records sorted by currency,
        denomination, label (genuine first) and path; ``method`` and ``side`` come from
        ``manifest.csv`` when the dataset has one.

    Raises:
        DatasetLayoutError: the folder is missing, empty, at the wrong level or breaks the layout;
            the message names the folder.
    """
    scan = _scan(root)
    for note in scan.notes:
        log.warning("%s", note.message)
    return Dataset(root=scan.root, records=_attach_manifest(scan.root, scan.records))


def _attach_manifest(root: Path, records: list[ImageRecord]) -> list[ImageRecord]:
    manifest = _read_manifest(root)
    if not manifest:
        return records
    out = []
    for r in records:
        info = manifest.get(r.path.relative_to(root).as_posix())
        if info is not None:
            r = ImageRecord(r.path, r.currency, r.denomination, r.label, method=info[0], side=info[1])
        out.append(r)
    return out


# --------------------------------------------------------------------------------------------------
# inspection


@dataclass(frozen=True)
class DatasetWarning:
    """One problem worth a look; it does not stop the dataset from being used.

    Attributes:
        code: machine-readable kind: "few_images", "no_genuine" (no genuine/ folder, or no images in
            it), "imbalance", "label_conflict", "duplicate_files", "unreadable", "non_image",
            "skipped" (a folder leading out of the dataset, an unreadable folder, a file that is not
            a regular file), "folder_too_large" (a folder too large to be walked whole),
            "empty_folder" (a currency folder without denominations).
        message: one line for a person.
        paths: the files concerned (may be empty).
        denom_id: the denomination concerned, or None for dataset-wide problems.
    """

    code: str
    message: str
    paths: tuple[Path, ...] = ()
    denom_id: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "paths": [str(p) for p in self.paths],
            "denomination": self.denom_id,
        }


@dataclass
class DenominationStats:
    """Counts and image sizes of one denomination.

    Sizes are ``(width, height)`` of the readable images, ordered by pixel count.
    """

    denom_id: str
    currency: str
    denomination: str
    genuine: int = 0
    counterfeit: int = 0
    unreadable: int = 0
    size_min: tuple[int, int] | None = None
    size_median: tuple[int, int] | None = None
    size_max: tuple[int, int] | None = None
    methods: dict[str, int] = field(default_factory=dict)
    warnings: list[DatasetWarning] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "denomination": self.denom_id,
            "currency": self.currency,
            "name": self.denomination,
            "genuine": self.genuine,
            "counterfeit": self.counterfeit,
            "unreadable": self.unreadable,
            "size_min": list(self.size_min) if self.size_min else None,
            "size_median": list(self.size_median) if self.size_median else None,
            "size_max": list(self.size_max) if self.size_max else None,
            "methods": dict(self.methods),
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass
class DatasetReport:
    """What :func:`inspect_dataset` found.

    ``warnings`` holds every warning (per-denomination ones included, each also listed in its
    :class:`DenominationStats`).
    """

    root: Path
    denominations: list[DenominationStats]
    warnings: list[DatasetWarning]
    total_images: int

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "root": str(self.root),
            "total_images": self.total_images,
            "denominations": [d.to_json() for d in self.denominations],
            "warnings": [w.to_json() for w in self.warnings],
        }

    def format_table(self) -> str:
        """An aligned text table for a terminal, then the list of warnings."""

        def size(s: tuple[int, int] | None) -> str:
            return f"{s[0]}x{s[1]}" if s else "-"

        header = ["Denomination", "Genuine", "Counterfeit", "Size min", "Size median", "Size max", "Methods"]
        rows = [
            [
                d.denom_id,
                str(d.genuine),
                str(d.counterfeit),
                size(d.size_min),
                size(d.size_median),
                size(d.size_max),
                ", ".join(f"{k} {v}" for k, v in sorted(d.methods.items())) or "-",
            ]
            for d in self.denominations
        ]
        total_g = sum(d.genuine for d in self.denominations)
        total_c = sum(d.counterfeit for d in self.denominations)
        rows.append(["Total", str(total_g), str(total_c), "", "", "", ""])
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        numeric = {1, 2}

        def line(cells: list[str]) -> str:
            return "  ".join(
                c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)
            ).rstrip()

        out = [f"Dataset {self.root} ({self.total_images} images)", line(header), line(["-" * w for w in widths])]
        out += [line(r) for r in rows[:-1]]
        out += [line(["-" * w for w in widths]), line(rows[-1])]
        if self.warnings:
            out.append("")
            out.append(f"Warnings ({len(self.warnings)}):")
            for w in self.warnings:
                out.append(f"  [{w.code}] {w.message}")
                for p in w.paths[:5]:
                    out.append(f"      {p}")
                if len(w.paths) > 5:
                    out.append(f"      ... and {len(w.paths) - 5} more")
        else:
            out.append("")
            out.append("No warnings.")
        return "\n".join(out)


@dataclass
class _FileInfo:
    record: ImageRecord
    size: tuple[int, int] | None = None
    sha: str | None = None
    thumb: np.ndarray | None = None
    colour: np.ndarray | None = None
    error: str | None = None


def _read_info(rec: ImageRecord) -> _FileInfo:
    info = _FileInfo(rec)
    try:
        data = read_image_bytes(rec.path)  # regular files only: a pipe would wait for ever
    except ImageLoadError as exc:
        info.error = exc.reason
        return info
    info.sha = hashlib.sha256(data).hexdigest()
    try:
        # Decoded at reduced size (JPEG draft): only a small thumbnail is needed.
        small, info.size = decode_image_bytes_with_size(
            data, str(rec.path), max_side=4 * THUMB_SIDE, min_side=MIN_NOTE_SIDE
        )
    except ImageLoadError as exc:
        info.error = exc.reason
        return info
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    info.thumb = cv2.resize(gray, (THUMB_SIDE, THUMB_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    colour = cv2.resize(small, (COLOUR_SIDE, COLOUR_SIDE), interpolation=cv2.INTER_AREA)
    info.colour = colour.astype(np.float32).ravel()
    return info


def inspect_dataset(
    root: str | Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DatasetReport:
    """Read every image of a dataset and report counts, sizes, methods and problems.

    Args:
        root: the dataset folder.
        progress: called once per file (stage "inspect").
        cancel: checked between files.

    Returns:
        A :class:`DatasetReport`.

    Raises:
        DatasetLayoutError: as :func:`discover_dataset`.
        CancelledError: ``cancel`` was set.
    """
    scan = _scan(root)
    root, non_images = scan.root, scan.non_images
    records = _attach_manifest(root, scan.records)
    total = len(records)
    eta = EtaEstimator(total)
    infos: list[_FileInfo] = []
    for i, rec in enumerate(records):
        check_cancel(cancel)
        infos.append(_read_info(rec))
        report(progress, "inspect", rec.path.name, done=i + 1, total=total, eta_s=eta.eta(i + 1))

    warnings: list[DatasetWarning] = []
    by_denom: dict[str, list[_FileInfo]] = {denomination_id(c, d): [] for c, d in scan.denominations}
    names = {denomination_id(c, d): (c, d) for c, d in scan.denominations}
    for info in infos:
        by_denom.setdefault(info.record.denom_id, []).append(info)
        names.setdefault(info.record.denom_id, (info.record.currency, info.record.denomination))
    notes_of: dict[str | None, list[DatasetWarning]] = {}
    for note in scan.notes:
        notes_of.setdefault(note.denom_id, []).append(note)
    stats_list: list[DenominationStats] = []
    for denom_id in sorted(by_denom, key=_natural_key):
        group = by_denom[denom_id]
        st = DenominationStats(denom_id, *names[denom_id])
        st.warnings.extend(notes_of.pop(denom_id, []))
        ok = [f for f in group if f.error is None]
        st.genuine = sum(1 for f in ok if f.record.is_genuine)
        st.counterfeit = sum(1 for f in ok if not f.record.is_genuine)
        st.unreadable = len(group) - len(ok)
        sizes = sorted((f.size for f in ok if f.size), key=lambda s: (s[0] * s[1], s))
        if sizes:
            st.size_min, st.size_median, st.size_max = sizes[0], sizes[len(sizes) // 2], sizes[-1]
        for f in group:
            if not f.record.is_genuine:
                key = f.record.method or "unknown"
                st.methods[key] = st.methods.get(key, 0) + 1
        if st.genuine < MIN_GENUINE and not any(w.code == "no_genuine" for w in st.warnings):
            st.warnings.append(
                DatasetWarning(
                    "few_images",
                    f"{denom_id}: only {st.genuine} readable genuine image(s); at least {MIN_GENUINE} are "
                    "needed for a usable centroid and threshold",
                    denom_id=denom_id,
                )
            )
        if st.counterfeit and st.genuine:
            ratio = st.counterfeit / st.genuine
            if ratio > MAX_IMBALANCE_HIGH or ratio < 1.0 / MAX_IMBALANCE_LOW:
                st.warnings.append(
                    DatasetWarning(
                        "imbalance",
                        f"{denom_id}: heavy imbalance, {st.counterfeit} counterfeit vs {st.genuine} genuine "
                        f"(ratio {ratio:.2g}:1)",
                        denom_id=denom_id,
                    )
                )
        st.warnings.extend(_label_conflicts(denom_id, ok))
        stats_list.append(st)
        warnings.extend(st.warnings)

    # Dataset-wide: folders and files skipped by the walk, duplicate files, unreadable and non-image files.
    for denom_notes in notes_of.values():
        warnings.extend(denom_notes)
    by_sha: dict[str, list[Path]] = {}
    for info in infos:
        if info.sha is not None:
            by_sha.setdefault(info.sha, []).append(info.record.path)
    for paths in sorted((p for p in by_sha.values() if len(p) > 1), key=lambda p: str(p[0])):
        warnings.append(
            DatasetWarning(
                "duplicate_files",
                f"{len(paths)} files have identical content ({paths[0].name}, ...)",
                tuple(paths),
            )
        )
    for info in infos:
        if info.error is not None:
            warnings.append(
                DatasetWarning(
                    "unreadable",
                    f"{info.record.path.relative_to(root)}: {info.error}",
                    (info.record.path,),
                    info.record.denom_id,
                )
            )
    if non_images:
        warnings.append(
            DatasetWarning(
                "non_image",
                f"{len(non_images)} file(s) that are not images (by extension) were skipped",
                tuple(non_images),
            )
        )
    return DatasetReport(root=root, denominations=stats_list, warnings=warnings, total_images=total)


def _natural_key(text: str) -> list[object]:
    """Sort key that puts "EUR/5" before "EUR/10"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def _label_conflicts(denom_id: str, infos: list[_FileInfo]) -> list[DatasetWarning]:
    """Same picture (also re-encoded or re-saved) under genuine and counterfeit."""
    gen = [f for f in infos if f.record.is_genuine and f.thumb is not None]
    fake = [f for f in infos if not f.record.is_genuine and f.thumb is not None]
    if not gen or not fake:
        return []
    g = np.stack([f.thumb for f in gen])  # type: ignore[misc]
    g_col = np.stack([f.colour for f in gen])  # type: ignore[misc]
    out: list[DatasetWarning] = []
    chunk = 512
    for start in range(0, len(fake), chunk):
        part = fake[start : start + chunk]
        d = cdist(np.stack([f.thumb for f in part]), g, metric="cityblock") / g.shape[1]  # type: ignore[misc]
        d_col = cdist(np.stack([f.colour for f in part]), g_col, metric="cityblock") / g_col.shape[1]  # type: ignore[misc]
        for ci, gi in zip(*np.nonzero((d < SAME_PICTURE_MAD) & (d_col < SAME_COLOUR_MAD))):
            a, b = gen[int(gi)].record.path, fake[start + int(ci)].record.path
            out.append(
                DatasetWarning(
                    "label_conflict",
                    f"{denom_id}: the same picture is labelled genuine ({a.name}) and counterfeit ({b.name})",
                    (a, b),
                    denom_id,
                )
            )
    return out


__all__ = [
    "DatasetReport",
    "DatasetWarning",
    "DenominationStats",
    "denomination_id",
    "discover_dataset",
    "inspect_dataset",
]
