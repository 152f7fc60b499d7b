"""Verify notes: from image files (or pixels) to verdicts.

Each image is read, the note is found and warped upright (:func:`~banknote_guard.model.preprocess.prepare_image`),
the network turns it into an embedding, and the gallery scores it.

Scoring: the nearest denomination centroid names the denomination; the ``counterfeit_score`` is the
distance to that centroid divided by that denomination's spread (see
:mod:`~banknote_guard.verify.gallery`); the threshold is that denomination's calibrated threshold
(:mod:`~banknote_guard.verify.calibration`) times the operator's threshold scale; the verdict follows
the one rule in :mod:`~banknote_guard.verify.verdict` (fail closed: never "genuine" on a non-finite
score). A model with a counterfeit head (:mod:`~banknote_guard.verify.counterfeit_head`) adds to that
distance score how far the embedding lies along the direction the training counterfeits took (the
*global* score). A model with local evidence fuses the global score with the comparison of the
straightened note's regions against the denomination's genuine notes
(:mod:`~banknote_guard.verify.local_evidence`): the fused score is the ``counterfeit_score``, the
distance alone still decides "unknown", and a suspect note's ``regions`` and reasons say where it
differs.

The SVM probabilities are reported beside the verdict (``probabilities``) but do not change it, so a
verdict depends only on distances and stored thresholds.

Batches: paths may be files, folders (searched recursively) or glob patterns (``**`` allowed). Images
are read and rectified in a small thread pool one batch ahead of the network. A file that cannot be
used gives an error result (``status="error"``) and the rest of the batch goes on.
"""

from __future__ import annotations

import glob
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from banknote_guard.errors import BanknoteGuardError, CancelledError, parameter_error
from banknote_guard.progress import (
    CancelToken,
    EtaEstimator,
    ProgressCallback,
    check_cancel,
    report,
)
from banknote_guard.verify.calibration import ambiguity
from banknote_guard.verify.counterfeit_head import head_bonus
from banknote_guard.verify.keypoints import name_note
from banknote_guard.verify.local_evidence import note_evidence, why_suspect
from banknote_guard.verify.result import NOT_GENUINE, VerificationResult
from banknote_guard.verify.verdict import (
    DEFAULT_THRESHOLD_SCALE,
    check_threshold_scale,
    judge,
)

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.keypoints import PhotoKeypoints, PrintMatch

_GLOB_CHARS = frozenset("*?[")
#: One prepared image: (item, upright note or None, outline found, error or None, seconds, reasons to
#: capture it again (:mod:`~banknote_guard.verify.quality`)).
#: (item, prepared note, outline found, error, seconds, retake reasons, the photo's print keypoints or None)
_Prepared = tuple["_Item", "np.ndarray | None", bool, "str | None", float, "list[str]", "PrintMatch | None"]


@dataclass
class _Item:
    """One entry of an expanded path list: a file to verify, or an error to report for it."""

    name: str
    path: Path | None
    error: str | None = None


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[_Item]:
    """Turn files, folders (recursive) and glob patterns into a list of files, in order, without repeats.

    A path that does not exist, a folder without images or a pattern that matches nothing gives an
    item with an error message instead of a file.
    """
    from banknote_guard.data.imageio import is_image_file, iter_image_files

    out: list[_Item] = []
    seen: set[str] = set()

    def add_file(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(_Item(str(p), p))

    def add_folder(p: Path) -> int:
        def skipped(path: Path, reason: str) -> None:
            out.append(_Item(str(path), None, f"Cannot read image {str(path)!r}: {reason}"))

        files = list(iter_image_files(p, on_skip=skipped))
        for f in files:
            add_file(f)
        return len(files)

    for raw in paths:
        text = os.fspath(raw)
        p = Path(text)
        if p.is_dir():
            if add_folder(p) == 0:
                out.append(_Item(text, None, f"No image files in folder {text!r}."))
        elif p.exists():
            add_file(p)
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            n = 0
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    n += add_folder(mp)
                elif is_image_file(mp):
                    add_file(mp)
                    n += 1
            if n == 0:
                out.append(_Item(text, None, f"No image files match {text!r}."))
        else:
            out.append(_Item(text, None, f"Cannot read image {text!r}: file not found"))
    return out


#: How often a waiting batch looks at its cancel token (seconds).
CANCEL_POLL_S = 0.2


def _wait(future: "Future[_Prepared]", cancel: CancelToken | None) -> "_Prepared":
    """The future's result, checking ``cancel`` while waiting (so Ctrl+C stops a batch stuck on a read)."""
    while True:
        check_cancel(cancel)
        try:
            return future.result(timeout=CANCEL_POLL_S)
        except FutureTimeout:
            continue


class Verifier:
    """Verifies notes with one model.

    Args:
        bundle: the model.
        batch_size: notes per forward pass of the network.
        workers: threads that read and rectify images (default: min(4, CPU cores)).
        threshold_scale: the operator's threshold scale (1.0: as calibrated; below 1.0 flags more
            notes); see :mod:`~banknote_guard.verify.verdict`.
    """

    def __init__(
        self,
        bundle: "ModelBundle",
        *,
        batch_size: int = 32,
        workers: int | None = None,
        threshold_scale: float = DEFAULT_THRESHOLD_SCALE,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise parameter_error("batch_size", "Verifier", "an int >= 1", batch_size)
        self.threshold_scale = check_threshold_scale(threshold_scale, "Verifier")
        self.bundle = bundle
        self.batch_size = batch_size
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self.config = bundle.config

    # --- single images ---------------------------------------------------------------------------

    def verify_image(self, rgb: np.ndarray, name: str = "image", *, expect_outline: bool = False) -> VerificationResult:
        """Verify one image already in memory (clipboard, camera frame).

        ``expect_outline``: the picture should show a whole note on a background (a camera frame, a
        scanned page), so finding no note outline in it means "retake: no note"
        (:mod:`~banknote_guard.verify.quality`).
        """
        from banknote_guard.model.preprocess import prepare_note
        from banknote_guard.verify.quality import retake_reasons

        start = time.perf_counter()
        try:
            prepared = prepare_note(rgb, self.config)
            note, found = prepared.image, prepared.found
            retake = retake_reasons(prepared, self.config, expect_outline=expect_outline)
            keypoints = None if retake else self._print(prepared.source)  # a retake is judged by nothing else
        except (ValueError, TypeError, BanknoteGuardError) as exc:
            return VerificationResult.failed(name, f"Cannot use image {name!r}: {exc}")
        emb = self.bundle.embedder.embed([note])
        (result,) = self.score(emb, [name], [found], [note], retake_reasons=[retake], keypoints=[keypoints])
        result.seconds = time.perf_counter() - start
        return result

    # --- batches ---------------------------------------------------------------------------------

    def verify_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        keep_partial: bool = False,
    ) -> list[VerificationResult]:
        """Verify files, folders (recursive) and globs, in order; unusable files give error results.

        Cancelling (``cancel``) stops within a fraction of a second, even while a file is still being
        read: by default it raises CancelledError; with ``keep_partial`` it returns what was verified,
        the files not reached marked as errors ("not verified: stopped"), so a caller can still write
        what was done.
        """
        items = expand_paths(paths)
        results: list[VerificationResult | None] = [None] * len(items)
        todo = [i for i, it in enumerate(items) if it.error is None]
        for i, it in enumerate(items):
            if it.error is not None:
                results[i] = VerificationResult.failed(it.name, it.error)
        total = len(todo)
        eta = EtaEstimator(total)
        report(progress, "verify", f"Verifying {total} image(s)", done=0, total=total)
        chunks = [todo[s : s + self.batch_size] for s in range(0, total, self.batch_size)]
        done = flagged = 0
        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            pending = [pool.submit(self._prepare, items[i]) for i in chunks[0]] if chunks else []
            for ci, chunk in enumerate(chunks):
                prepared = [_wait(f, cancel) for f in pending]
                pending = [pool.submit(self._prepare, items[i]) for i in chunks[ci + 1]] if ci + 1 < len(chunks) else []
                for idx, res in zip(chunk, self._finish_batch(prepared)):
                    results[idx] = res
                    flagged += res.verdict in NOT_GENUINE
                done += len(chunk)
                report(
                    progress, "verify", f"{done}/{total} verified, {flagged} need a look",
                    done=done, total=total, eta_s=eta.eta(done),
                )
        except CancelledError:
            if not keep_partial:
                raise
            for i, it in enumerate(items):
                if results[i] is None:
                    results[i] = VerificationResult.failed(it.name, "Not verified: the batch was stopped.")
        finally:
            # A reader stuck on a slow disk must not hold up the stop: do not wait for it.
            pool.shutdown(wait=False, cancel_futures=True)
        return [r for r in results if r is not None]

    def _prepare(self, item: _Item) -> _Prepared:
        from banknote_guard.model.preprocess import load_and_prepare_note
        from banknote_guard.verify.quality import retake_reasons

        start = time.perf_counter()
        if item.path is None:  # pragma: no cover - items with an error are never prepared
            return item, None, False, item.error or "no file", 0.0, [], None
        try:
            prepared = load_and_prepare_note(item.path, self.config)
            retake = retake_reasons(prepared, self.config)
            # a picture to capture again gets no verdict from its print: reading it would only cost time
            keypoints = None if retake else self._print(prepared.source)
            return item, prepared.image, prepared.found, None, time.perf_counter() - start, retake, keypoints
        except BanknoteGuardError as exc:
            return item, None, False, str(exc), time.perf_counter() - start, [], None
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            return item, None, False, f"Cannot use image {item.name!r}: {exc}", time.perf_counter() - start, [], None

    def _print(self, source: np.ndarray) -> "PrintMatch | None":
        """What the photo's print says, when the model names notes by their print (else None: no cost).
        Read and matched here, in the preparation threads, so photos are matched side by side."""
        if self.bundle.keypoints is None or not len(self.bundle.keypoints):
            return None
        import cv2

        from banknote_guard.verify.keypoints import PrintMatch, photo_keypoints

        try:
            return self.bundle.keypoints.match(photo_keypoints(source))
        except (cv2.error, ValueError, MemoryError):
            return PrintMatch()  # the print could not be read: it backs no name (fails closed)

    def _finish_batch(self, prepared: Sequence[_Prepared]) -> list[VerificationResult]:
        ok = [p for p in prepared if p[3] is None]
        scored: list[VerificationResult] = []
        if ok:
            start = time.perf_counter()
            emb = self.bundle.embedder.embed([p[1] for p in ok])
            scored = self.score(emb, [p[0].name for p in ok], [p[2] for p in ok], [p[1] for p in ok],
                                retake_reasons=[p[5] for p in ok], keypoints=[p[6] for p in ok])
            share = (time.perf_counter() - start) / len(ok)
            for r, p in zip(scored, ok):
                r.seconds = p[4] + share
        it = iter(scored)
        out = []
        for item, _, _, error, seconds, _, _ in prepared:
            if error is not None:
                r = VerificationResult.failed(item.name, error)
                r.seconds = seconds
                out.append(r)
            else:
                out.append(next(it))
        return out

    # --- scoring ---------------------------------------------------------------------------------

    def score(
        self,
        embeddings: np.ndarray,
        names: Sequence[str],
        note_found: Sequence[bool] | None = None,
        rectified: Sequence[np.ndarray | None] | None = None,
        *,
        retake_reasons: Sequence[Sequence[str]] | None = None,
        keypoints: "Sequence[PhotoKeypoints | PrintMatch | None] | None" = None,
    ) -> list[VerificationResult]:
        """Verdicts for embeddings (see the module docstring for the rule); ``retake_reasons``: each
        note's capture-quality reasons, ``keypoints``: each photo's print (subclasses that override this
        pass both on)."""
        return score_embeddings(
            self.bundle, embeddings, names, note_found, rectified, threshold_scale=self.threshold_scale,
            retake_reasons=retake_reasons, keypoints=keypoints,
        )


def score_embeddings(
    bundle: "ModelBundle",
    embeddings: np.ndarray,
    names: Sequence[str],
    note_found: Sequence[bool] | None = None,
    rectified: Sequence[np.ndarray | None] | None = None,
    *,
    threshold_scale: float = DEFAULT_THRESHOLD_SCALE,
    retake_reasons: Sequence[Sequence[str]] | None = None,
    keypoints: "Sequence[PhotoKeypoints | PrintMatch | None] | None" = None,
) -> list[VerificationResult]:
    """Turn embeddings into :class:`VerificationResult` objects with the model's verdict rule.

    Args:
        bundle: the model.
        embeddings: (N, D) embeddings.
        names: N paths or names.
        note_found: whether each note's outline was found (default: True for all).
        rectified: the rectified images, kept on the results (optional).
        threshold_scale: the operator's threshold scale (see :mod:`~banknote_guard.verify.verdict`).
        retake_reasons: for each note, why its picture is not good enough to judge
            (:mod:`~banknote_guard.verify.quality`); a note with reasons is "retake" and they
            are its ``reasons`` (default: none).
        keypoints: each photo's print keypoints (:func:`~banknote_guard.verify.keypoints.photo_keypoints`),
            or what they matched already, matched against the model's print prototypes to name the note
            (:func:`~banknote_guard.verify.keypoints.name_note`); None: named by the embedding alone.
    """
    gallery, cal = bundle.gallery, bundle.calibration
    n = len(names)
    if n == 0:
        return []
    found = list(note_found) if note_found is not None else [True] * n
    best, score, dist = gallery.scores(embeddings)
    proba = bundle.svm.predict_proba(embeddings)
    svm_classes = bundle.svm.classes_
    classes = gallery.classes_
    amb = ambiguity(dist)
    margin = cal.margin_for(len(classes))
    likeness = gallery.note_likeness(embeddings)
    plus = head_bonus(bundle, embeddings)  # the counterfeit head's share of each note's global score
    out: list[VerificationResult] = []
    for i in range(n):
        a = float(amb[i])
        naming = name_note(classes, int(best[i]), a <= margin, bundle.keypoints,
                           None if keypoints is None else keypoints[i])
        j = naming.index
        denom = classes[j]
        own = float(score[i]) if j == int(best[i]) else float(dist[i, j] / gallery.spreads_[j])
        thr = float(cal.threshold_for(denom))
        evidence = note_evidence(bundle, None if rectified is None else rectified[i], denom, own + float(plus[i]))
        s = evidence.fused
        unclear = not (a <= margin) if naming.clear is None else not naming.clear
        not_a_note = not (float(likeness[i]) <= cal.gate_threshold)
        retake = list(retake_reasons[i]) if retake_reasons is not None else []
        verdict = judge(
            s, thr, cal.unknown_threshold, note_found=bool(found[i]), threshold_scale=threshold_scale,
            ambiguity=a, margin_threshold=margin, not_a_note=not_a_note, retake_reasons=retake,
            distance_score=own, name_clear=naming.clear,
        )
        # A picture to capture again says only why: what its scores would mean does not count.
        reasons = retake or _reasons(verdict, denom, dist[i], classes, unclear and naming.reason is None,
                                     bool(found[i]), not_a_note)
        if not retake and naming.reason and verdict in ("uncertain", "suspect"):
            reasons = [naming.reason, *reasons]
        if verdict == "suspect" and evidence.local is not None and evidence.local.regions:
            reasons = [*reasons, why_suspect(denom, evidence.local.regions)]  # the heat map's regions, in words
        out.append(
            VerificationResult(
                path=str(names[i]),
                denomination=denom,
                verdict=verdict,
                counterfeit_score=s,
                threshold=thr * threshold_scale,
                threshold_scale=threshold_scale,
                distances={c: float(dist[i, j]) for j, c in enumerate(classes)},
                probabilities={c: float(proba[i, j]) for j, c in enumerate(svm_classes)},
                note_found=bool(found[i]),
                reasons=reasons,
                ambiguity=a,
                denomination_unclear=unclear,
                rectified=None if rectified is None else rectified[i],
                global_score=evidence.global_score,
                local_score=None if evidence.local is None else evidence.local.score,
                regions=[] if evidence.local is None else [r.to_json() for r in evidence.local.regions],
                heatmap=None if evidence.local is None else evidence.local.heatmap,
                print_match=None if naming.match is None else naming.match.to_json(),
            )
        )
    return out


def _reasons(
    verdict: str, denom: str, dist: np.ndarray, classes: Sequence[str], unclear: bool, found: bool, not_a_note: bool
) -> list[str]:
    """Readable sentences for verdicts that need them (uncertain, unknown, an unclear suspect)."""
    out = []
    if unclear and len(classes) > 1:
        order = np.argsort(dist)
        second = classes[int(order[1])]
        out.append(f"Its denomination is not clear: {denom} and {second} are nearly equally close.")
    if verdict == "unknown" and not_a_note:
        out.append("It does not look like a banknote: it is closer to pictures without a note (a desk, a "
                   "document, a screen, a hand) than to any note this model knows.")
    elif verdict == "unknown":
        out.append(
            "It matches no denomination this model knows" + ("" if found else ", and no note outline was found")
            + ": not a note, or a denomination that has not been enrolled."
        )
    return out


def verify_paths(
    model: "ModelBundle",
    paths: Iterable[str | os.PathLike[str]],
    *,
    threshold_scale: float = DEFAULT_THRESHOLD_SCALE,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[VerificationResult]:
    """Verify files, folders (recursive) and globs with ``model``; see :class:`Verifier`."""
    return Verifier(model, threshold_scale=threshold_scale).verify_paths(paths, progress=progress, cancel=cancel)


def verify_image(
    model: "ModelBundle", rgb: np.ndarray, name: str = "image", *, threshold_scale: float = DEFAULT_THRESHOLD_SCALE
) -> VerificationResult:
    """Verify one image already in memory; see :meth:`Verifier.verify_image`."""
    return Verifier(model, threshold_scale=threshold_scale).verify_image(rgb, name)
