"""Class labelling, P x K batches and the stratified split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from banknote_guard.data.records import ImageRecord
from banknote_guard.errors import ParameterError
from banknote_guard.model.sampler import PKSampler, class_key, denom_of_key
from banknote_guard.model.split import split_records


def records(spec: dict[tuple[str, str], int]) -> list[ImageRecord]:
    out = []
    for (denom, label), n in spec.items():
        for i in range(n):
            out.append(ImageRecord(Path(f"/d/A/{denom}/{label}/{i:03d}.png"), "A", denom, label))  # type: ignore[arg-type]
    return out


def test_class_key_separates_genuine_and_counterfeit() -> None:
    g = ImageRecord(Path("x.png"), "EUR", "20", "genuine")
    c = ImageRecord(Path("y.png"), "EUR", "20", "counterfeit")
    assert class_key(g) == "EUR/20|genuine" and class_key(c) == "EUR/20|counterfeit"
    assert denom_of_key(class_key(c)) == "EUR/20"


def test_batches_are_p_by_k_and_pair_a_denominations_classes() -> None:
    recs = records({("5", "genuine"): 10, ("5", "counterfeit"): 5, ("10", "genuine"): 10,
                    ("10", "counterfeit"): 5, ("20", "genuine"): 7, ("50", "genuine"): 3})
    keys = [class_key(r) for r in recs]
    sampler = PKSampler(keys, classes_per_batch=4, images_per_class=3, seed=1)
    batches = list(sampler)
    assert len(batches) == len(sampler) == -(-len(recs) // 12)
    for batch in batches:
        assert len(batch) == 12
        per_class = Counter(keys[i] for i in batch)
        assert len(per_class) == 4 and set(per_class.values()) == {3}
        # Each class has >= 2 images and >= 3 classes are present: valid quadruplets exist.
        for k in per_class:  # a counterfeit class always comes with its genuine class
            if k.endswith("counterfeit"):
                assert denom_of_key(k) + "|genuine" in per_class
        for k in per_class:  # no repeats inside a class with enough images
            idx = [i for i in batch if keys[i] == k]
            if len([x for x in keys if x == k]) >= 3:
                assert len(set(idx)) == 3


def test_epochs_are_reproducible_and_differ() -> None:
    keys = [f"D{i % 4}|genuine" for i in range(40)]
    s = PKSampler(keys, 3, 2, seed=5)
    s.set_epoch(0)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    s.set_epoch(0)
    assert list(s) == e0 and e0 != e1
    assert list(PKSampler(keys, 3, 2, seed=5)) == e0


def test_genuine_only_denominations_and_tiny_classes_still_sample() -> None:
    keys = ["A|genuine"] * 5 + ["B|genuine"] * 1 + ["C|genuine"] * 4
    batches = list(PKSampler(keys, 8, 4, seed=0))
    assert all(len(b) == 12 for b in batches)  # P capped at the 3 classes
    assert all(Counter(keys[i] for i in b)["B|genuine"] == 4 for b in batches)


def test_sampler_rejects_a_single_class() -> None:
    with pytest.raises(ParameterError, match="at least 2 classes"):
        PKSampler(["A|genuine"] * 4, 2, 2)
    with pytest.raises(ParameterError, match="images_per_class"):
        PKSampler(["A|genuine", "B|genuine"], 2, 1)


def test_split_is_stratified_deterministic_and_order_free() -> None:
    recs = records({("5", "genuine"): 20, ("5", "counterfeit"): 4, ("10", "genuine"): 3, ("20", "genuine"): 2})
    train, val = split_records(recs, 0.25, seed=3)
    assert len(train) + len(val) == len(recs) and not set(train) & set(val)
    val_counts = Counter(class_key(r) for r in val)
    assert val_counts == {"A/5|genuine": 5, "A/5|counterfeit": 1, "A/10|genuine": 1}
    assert split_records(recs, 0.25, seed=3) == (train, val)
    train_r, val_r = split_records(list(reversed(recs)), 0.25, seed=3)
    assert set(val_r) == set(val)
    assert set(split_records(recs, 0.25, seed=4)[1]) != set(val)
    assert split_records(recs, 0.0, seed=3) == (recs, [])
    with pytest.raises(ParameterError):
        split_records(recs, 1.0, seed=0)


def test_training_key_splits_sides_only_when_asked_and_known() -> None:
    from banknote_guard.model.sampler import training_key

    front = ImageRecord(Path("f.png"), "EUR", "20", "genuine", side="front")
    unknown = ImageRecord(Path("u.png"), "EUR", "20", "counterfeit")
    assert training_key(front) == "EUR/20|genuine"
    assert training_key(front, split_sides=True) == "EUR/20|genuine|front"
    assert training_key(unknown, split_sides=True) == "EUR/20|counterfeit"
    assert denom_of_key("EUR/20|genuine|front") == "EUR/20"
    keys = ["A|genuine|front"] * 4 + ["A|genuine|back"] * 4 + ["A|counterfeit|front"] * 4 + ["B|genuine|front"] * 4
    for batch in PKSampler(keys, 3, 2, seed=0):
        classes = {keys[i] for i in batch}
        if "A|counterfeit|front" in classes:  # counterfeits come with genuine notes of their denomination
            assert classes & {"A|genuine|front", "A|genuine|back"}
