"""Watched folders: verify each picture that scanner software (or any program) drops into a folder.

:class:`FolderWatcher` looks at the folder every ``poll_s`` seconds (polling works on local disks,
network shares and every operating system alike) and hands out each new picture:

- **only when completely written**: its size and modification time have not changed for
  ``settle_s`` seconds (hidden files and the temporary names downloads and copies use, such as
  ``.part`` or ``.crdownload``, are ignored until renamed). A picture that still cannot be read is
  tried again until it has stayed unchanged for ``give_up_s`` seconds, and only then reported as
  unreadable, once;
- **exactly once**: every picture handed out is written to a journal (one JSON line per picture,
  ``.banknote_guard-watch.jsonl`` in the folder unless another file is given) with its name, size,
  modification time and verdict. A watcher started again, after a restart or a crash, skips every
  picture in the journal; a picture replaced by a new one under the same name is new. One program at
  a time watches a folder (the journal is locked);
- **in arrival order**: pictures that became ready together are taken in the order they were last
  written (then by name), so a burst of hundreds comes out in the order it was written.

:func:`watch_folder` runs a watcher with a verifier until cancelled: pictures ready together are
verified as one batch of the network, and each result goes to ``on_result`` and the journal.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from banknote_guard.capture.errors import WatchError
from banknote_guard.errors import FileBusyError, OutputError, parameter_error
from banknote_guard.fileio import locked
from banknote_guard.progress import CancelToken

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.result import VerificationResult
    from banknote_guard.verify.verifier import Verifier

log = logging.getLogger(__name__)

JOURNAL_NAME = ".banknote_guard-watch.jsonl"
#: Name endings of files still being downloaded, copied or written under a temporary name.
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".filepart", "~")
DEFAULT_POLL_S = 0.5
DEFAULT_SETTLE_S = 1.0
DEFAULT_GIVE_UP_S = 15.0


@dataclass(frozen=True)
class Arrival:
    """A picture that arrived and is ready to verify.

    Attributes:
        path: the file.
        name: its path relative to the watched folder (the journal's key with size and time).
        size: bytes.
        mtime_ns: last modification time.
        seen_at: when the watcher first saw it (monotonic clock).
        ready_at: when it was found complete.
    """

    path: Path
    name: str
    size: int
    mtime_ns: int
    seen_at: float
    ready_at: float

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.name, self.size, self.mtime_ns)


@dataclass
class _Candidate:
    size: int
    mtime_ns: int
    seen_at: float
    changed_at: float
    retry_at: float = 0.0


@dataclass
class WatchStats:
    """What a watcher has done so far."""

    verified: int = 0
    unreadable: int = 0
    retried: int = 0
    skipped_known: int = 0
    errors: list[str] = field(default_factory=list)


def _is_candidate(name: str) -> bool:
    from banknote_guard.data.imageio import IMAGE_EXTENSIONS, is_hidden_name

    low = name.lower()
    if is_hidden_name(name) or low.endswith(TEMPORARY_SUFFIXES) or name.startswith("~$"):
        return False
    return os.path.splitext(low)[1] in IMAGE_EXTENSIONS


class FolderWatcher:
    """Hands out the pictures arriving in one folder (see the module docstring).

    Args:
        folder: the folder to watch (it must exist).
        settle_s: seconds a file must stay unchanged to count as completely written.
        give_up_s: seconds an unchanged file may stay unreadable before it is reported as such.
        journal: where to keep the journal (default: a hidden file in the folder).
        recursive: also watch sub-folders.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        settle_s: float = DEFAULT_SETTLE_S,
        give_up_s: float = DEFAULT_GIVE_UP_S,
        journal: str | Path | None = None,
        recursive: bool = False,
    ) -> None:
        for name, value in (("settle_s", settle_s), ("give_up_s", give_up_s)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 3600.0:
                raise parameter_error(name, "FolderWatcher", "a number of seconds in [0, 3600]", value)
        self.folder = Path(folder)
        self.settle_s = float(settle_s)
        self.give_up_s = max(float(give_up_s), float(settle_s))
        self.journal_path = Path(journal) if journal is not None else self.folder / JOURNAL_NAME
        self.recursive = recursive
        self.stats = WatchStats()
        self._done: set[tuple[str, int, int]] = set()
        self._candidates: dict[str, _Candidate] = {}
        self._stack: contextlib.ExitStack | None = None
        self._journal = None

    # --- opening and closing ----------------------------------------------------------------------

    def open(self) -> None:
        """Check the folder, take the journal's lock and read what was verified before."""
        if self._stack is not None:
            return
        if not self.folder.exists():
            raise WatchError(f"The folder {str(self.folder)!r} does not exist.")
        if not self.folder.is_dir():
            raise WatchError(f"{str(self.folder)!r} is not a folder.")
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(locked(self.journal_path, timeout=0.5, what="the watched folder's journal"))
        except FileBusyError:
            stack.close()
            raise WatchError(f"Another program is already watching {str(self.folder)!r} (its journal "
                             f"{self.journal_path.name} is locked); stop it first.") from None
        except OutputError as exc:
            stack.close()
            raise WatchError(f"Cannot keep a journal in {str(self.journal_path.parent)!r} ({exc.reason or exc}); "
                             "choose another place for it (--journal).") from None
        try:
            self._done = set(self._read_journal())
            self._journal = stack.enter_context(open(self.journal_path, "a", encoding="utf-8"))
        except OSError as exc:
            stack.close()
            raise WatchError(f"Cannot write the journal {str(self.journal_path)!r}: {exc.strerror or exc}.") from None
        self._stack = stack

    def close(self) -> None:
        stack, self._stack, self._journal = self._stack, None, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> "FolderWatcher":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_journal(self) -> Iterator[tuple[str, int, int]]:
        try:
            text = self.journal_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                yield (str(entry["name"]), int(entry["size"]), int(entry["mtime_ns"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash mid-write: that picture is verified again

    @property
    def known(self) -> int:
        """Pictures the journal says were verified."""
        return len(self._done)

    # --- finding arrivals ----------------------------------------------------------------------------

    def _scan(self) -> Iterator[tuple[str, Path, os.stat_result]]:
        stack = [self.folder]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                if folder == self.folder:
                    raise WatchError(f"The watched folder {str(self.folder)!r} cannot be read any more: "
                                     f"{exc.strerror or exc}.") from None
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if self.recursive and not entry.name.startswith("."):
                            stack.append(Path(entry.path))
                        continue
                    if not _is_candidate(entry.name) or not entry.is_file():
                        continue
                    st = entry.stat()
                except OSError:
                    continue  # removed while looking
                yield os.path.relpath(entry.path, self.folder), Path(entry.path), st

    def poll(self, now: float | None = None) -> list[Arrival]:
        """The pictures ready to verify now, in arrival order (each handed out until it is
        :meth:`done` or put off with :meth:`later`)."""
        now = time.monotonic() if now is None else now
        present = set()
        ready: list[Arrival] = []
        for name, path, st in self._scan():
            present.add(name)
            key = (name, int(st.st_size), int(st.st_mtime_ns))
            if key in self._done:
                continue
            cand = self._candidates.get(name)
            if cand is None or (cand.size, cand.mtime_ns) != key[1:]:
                self._candidates[name] = _Candidate(key[1], key[2], cand.seen_at if cand else now, now)
                continue
            if st.st_size > 0 and now - cand.changed_at >= self.settle_s and now >= cand.retry_at:
                ready.append(Arrival(path, name, key[1], key[2], cand.seen_at, now))
        for gone in set(self._candidates) - present:
            del self._candidates[gone]
        ready.sort(key=lambda a: (a.mtime_ns, a.name))
        return ready

    def may_retry(self, arrival: Arrival, now: float | None = None) -> bool:
        """Whether a picture that could not be read may still be in the middle of being written (it
        has been unchanged for less than ``give_up_s``)."""
        now = time.monotonic() if now is None else now
        cand = self._candidates.get(arrival.name)
        return cand is not None and now - cand.changed_at < self.give_up_s

    def later(self, arrival: Arrival, now: float | None = None) -> None:
        """Put a picture off: try it again after another ``settle_s`` seconds."""
        now = time.monotonic() if now is None else now
        cand = self._candidates.get(arrival.name)
        if cand is not None:
            cand.retry_at = now + max(self.settle_s, 0.2)
        self.stats.retried += 1

    def done(self, arrival: Arrival, result: "VerificationResult | None" = None) -> None:
        """Record a picture as verified (in the journal, at once), so it is never handed out again."""
        self._done.add(arrival.key)
        self._candidates.pop(arrival.name, None)
        entry = {
            "name": arrival.name, "size": arrival.size, "mtime_ns": arrival.mtime_ns,
            "verified": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        if result is not None:
            entry.update(status=result.status, verdict=result.verdict, denomination=result.denomination,
                         error=result.error)
        if self._journal is not None:
            try:
                self._journal.write(json.dumps(entry) + "\n")
                self._journal.flush()
            except OSError as exc:
                self.stats.errors.append(f"Could not write the journal: {exc.strerror or exc}")
                log.warning("watch journal write failed: %s", exc)

    def sync(self) -> None:
        """Push the journal to the disk (after a batch)."""
        if self._journal is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._journal.fileno())


def watch_folder(
    verifier: "Verifier",
    folder: str | Path,
    *,
    on_result: Callable[[Arrival, "VerificationResult"], None] | None = None,
    cancel: CancelToken | None = None,
    poll_s: float = DEFAULT_POLL_S,
    settle_s: float = DEFAULT_SETTLE_S,
    give_up_s: float = DEFAULT_GIVE_UP_S,
    journal: str | Path | None = None,
    recursive: bool = False,
    batch_size: int = 32,
    on_idle: Callable[[FolderWatcher], None] | None = None,
) -> WatchStats:
    """Verify the pictures arriving in ``folder`` until ``cancel`` is set (see the module docstring).

    Args:
        verifier: verifies each batch of ready pictures.
        folder: the folder.
        on_result: called with each picture and its result, in arrival order.
        cancel: stops the watch (a batch being verified is finished first, so nothing is lost).
        poll_s: seconds between looks at the folder.
        settle_s, give_up_s, journal, recursive: see :class:`FolderWatcher`.
        batch_size: the most pictures verified in one batch of the network.
        on_idle: called after each look that found nothing to do (a front end's status line).

    Raises:
        WatchError: the folder cannot be watched, or cannot be read any more.
    """
    with FolderWatcher(folder, settle_s=settle_s, give_up_s=give_up_s, journal=journal, recursive=recursive) as w:
        while cancel is None or not cancel.cancelled:
            ready = w.poll()
            for start in range(0, len(ready), batch_size):
                _verify_batch(verifier, w, ready[start : start + batch_size], on_result)
            w.sync()
            if not ready and on_idle is not None:
                on_idle(w)
            deadline = time.monotonic() + poll_s
            while time.monotonic() < deadline and (cancel is None or not cancel.cancelled):
                time.sleep(min(0.05, poll_s))
        return w.stats


def _verify_batch(
    verifier: "Verifier", watcher: FolderWatcher, batch: list[Arrival],
    on_result: Callable[[Arrival, "VerificationResult"], None] | None,
) -> None:
    results = verifier.verify_paths([a.path for a in batch])
    for arrival, result in zip(batch, results):
        if not result.ok:
            if not arrival.path.exists():
                watcher.later(arrival)  # moved away before it could be read: forget it quietly
                continue
            if watcher.may_retry(arrival):
                watcher.later(arrival)
                continue
            watcher.stats.unreadable += 1
        else:
            watcher.stats.verified += 1
        watcher.done(arrival, result)
        if on_result is not None:
            on_result(arrival, result)
