"""Fixtures of the data tests: the hostile-image corpus (tests/data/fuzz_corpus.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def load_fuzz_corpus() -> ModuleType:
    """Import tests/data/fuzz_corpus.py by path (the tests run with --import-mode=importlib)."""
    name = "banknote_guard_tests_fuzz_corpus"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fuzz_corpus.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fuzz_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """``(folder, cases)``: the hostile files, written once per test session."""
    folder = tmp_path_factory.mktemp("hostile_images")
    return folder, load_fuzz_corpus().build_corpus(folder)
