"""Train/validation split, stratified by metric-learning class (denomination x genuine/counterfeit)."""

from __future__ import annotations

import random
from collections import defaultdict

from banknote_guard.data.records import ImageRecord
from banknote_guard.errors import parameter_error
from banknote_guard.model.sampler import class_key


def split_records(
    records: list[ImageRecord], val_fraction: float, seed: int
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """Split records into (train, val), stratified by :func:`class_key`, deterministic for a seed.

    Each class gives ``round(n * val_fraction)`` items to validation, at least 1 when it has 3 or more
    items (and val_fraction > 0), and always keeps at least 2 for training; classes with fewer than 3
    items stay in training. The shuffle depends only on the seed, the class and the file paths, not on
    the order of ``records``. Both lists keep the order of ``records``.
    """
    if not isinstance(val_fraction, (int, float)) or not 0.0 <= val_fraction < 1.0:
        raise parameter_error("val_fraction", "split_records", "a float in [0, 1)", val_fraction)
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_class[class_key(r)].append(i)
    val_idx: set[int] = set()
    for key in sorted(by_class):
        items = sorted(by_class[key], key=lambda i: (str(records[i].path), i))
        n = len(items)
        if n < 3 or val_fraction == 0:
            continue
        n_val = min(max(1, round(n * val_fraction)), n - 2)
        random.Random(f"{seed}|{key}").shuffle(items)
        val_idx.update(items[:n_val])
    train = [r for i, r in enumerate(records) if i not in val_idx]
    val = [r for i, r in enumerate(records) if i in val_idx]
    return train, val
