"""Hostile image files: every one gives an RGB uint8 array or an ImageLoadError, never anything else.

The corpus (over 1,000 files: truncated, corrupt, random, empty, decompression bombs by header, odd
modes and shapes, odd names, and a pipe named like a picture) is generated at test time by
tests/data/fuzz_corpus.py. Each file is read directly with ``load_image`` and again through
``iter_image_files`` over the folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.data.imageio import DEFAULT_MAX_SIDE, iter_image_files, load_image
from banknote_guard.errors import ImageLoadError


def _outcome(path: Path, problems: list[str]) -> str:
    """"pixels", "error: <reason>" or "UNEXPECTED"; problems get one line per broken rule."""
    try:
        out = load_image(path)
    except ImageLoadError as exc:
        reason = exc.reason
        if not reason or "\n" in str(exc) or len(reason) > 200 or exc.path != path:
            problems.append(f"{path.name}: unclear error {str(exc)!r}")
        return f"error: {reason}"
    except Exception as exc:  # noqa: BLE001 - exactly what this test hunts for
        problems.append(f"{path.name}: {type(exc).__name__}: {exc}")
        return "UNEXPECTED"
    if not (
        isinstance(out, np.ndarray)
        and out.dtype == np.uint8
        and out.ndim == 3
        and out.shape[2] == 3
        and min(out.shape[:2]) >= 1
        and max(out.shape[:2]) <= DEFAULT_MAX_SIDE
        and out.flags.c_contiguous
    ):
        problems.append(f"{path.name}: not an RGB uint8 array: {type(out).__name__} {getattr(out, 'shape', '')}")
    return "pixels"


@pytest.mark.timeout(120)
def test_hostile_files_give_pixels_or_image_load_error(fuzz_corpus: tuple[Path, list]) -> None:
    folder, cases = fuzz_corpus
    assert len(cases) >= 1000
    start = time.monotonic()
    problems: list[str] = []
    direct = {case.path: _outcome(case.path, problems) for case in cases}
    for case in cases:
        if case.must_fail and direct[case.path] == "pixels":
            problems.append(f"{case.path.name}: a {case.kind} file was turned into pixels")

    skipped: list[tuple[Path, str]] = []
    listed = list(iter_image_files(folder, on_skip=lambda p, why: skipped.append((p, why))))
    assert set(listed) == set(direct), "every regular file with an image name is listed"
    walked = {p: _outcome(p, problems) for p in listed}
    assert walked == direct, "the same file gives the same result however it is reached"
    pipes = [p for p in folder.iterdir() if p.name.startswith("pipe_")]
    assert [p for p, _ in skipped] == pipes
    assert all("not a regular file" in why for _, why in skipped)
    for pipe in pipes:
        with pytest.raises(ImageLoadError, match="not a regular file"):
            load_image(pipe)
    elapsed = time.monotonic() - start

    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:40])
    kinds = {case.kind for case in cases}
    assert {"truncated", "corrupt", "random", "empty", "bomb", "shape", "odd_name", "valid"} <= kinds
    n_pixels = sum(1 for v in direct.values() if v == "pixels")
    assert 0 < n_pixels < len(cases)
    assert elapsed < 60, f"reading the corpus took {elapsed:.1f} s"
