"""Settings shared by the whole test suite."""

from __future__ import annotations

import os

# Qt draws into memory in tests; no display is needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep BLAS and torch from oversubscribing the two cores of a CI machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _torch_threads() -> None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(min(2, os.cpu_count() or 1))
