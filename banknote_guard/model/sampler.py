"""Class labels for metric learning and class-balanced (P x K) batches.

A denomination's genuine notes form one class (``"EUR/20|genuine"``) and its counterfeits another
(``"EUR/20|counterfeit"``). :class:`PKSampler` draws batches of P classes x K images and keeps a
denomination's two classes together in a batch, so the hardest negatives (a denomination's own
counterfeits) meet their genuine anchors in every batch where they exist. A denomination with genuine
images only is simply a class without a counterfeit partner.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Iterator, Sequence

from banknote_guard.data.records import ImageRecord
from banknote_guard.errors import parameter_error


def class_key(record: ImageRecord) -> str:
    """The metric-learning class of a record: ``"<denom_id>|genuine"`` or ``"<denom_id>|counterfeit"``."""
    return f"{record.denom_id}|{record.label}"


def training_key(record: ImageRecord, split_sides: bool = False) -> str:
    """The class used while training: :func:`class_key`, plus ``"|<side>"`` when ``split_sides`` and known.

    The two sides of a note look nothing alike; training them as separate classes lets the network
    keep two tight clusters per denomination instead of forcing front and back together (the gallery
    keeps a prototype per cluster).
    """
    key = class_key(record)
    return f"{key}|{record.side}" if split_sides and record.side else key


def denom_of_key(key: str) -> str:
    """The denomination id of a class key (or of a training key)."""
    return key.split("|", 1)[0]


class PKSampler:
    """Yields batches (lists of indices) of ``classes_per_batch`` classes x ``images_per_class`` images.

    Args:
        keys: the class key of each item (``class_key(record)``); indices refer to this list.
        classes_per_batch: P (at least 2; 3 or more so quadruplets exist). Capped at the number of
            classes.
        images_per_class: K (at least 2). A class with fewer than K images is drawn with repetition.
        seed: base seed; epoch e uses ``(seed, e)``, so an epoch's batches are the same whether the
            run was interrupted or not.
        batches_per_epoch: default: enough batches to show every item about once.

    Classes are grouped by denomination: a batch takes whole denominations (genuine and counterfeit
    classes together), visiting denominations in shuffled round-robin order, until it has P classes.
    Within a class, images are drawn without replacement from a shuffled queue that refills.
    """

    def __init__(
        self,
        keys: Sequence[str],
        classes_per_batch: int,
        images_per_class: int,
        *,
        seed: int = 0,
        batches_per_epoch: int | None = None,
    ) -> None:
        if not isinstance(classes_per_batch, int) or classes_per_batch < 2:
            raise parameter_error("classes_per_batch", "PKSampler", "an integer >= 2", classes_per_batch)
        if not isinstance(images_per_class, int) or images_per_class < 2:
            raise parameter_error("images_per_class", "PKSampler", "an integer >= 2", images_per_class)
        self.keys = list(keys)
        self.by_class: dict[str, list[int]] = defaultdict(list)
        for i, k in enumerate(self.keys):
            self.by_class[k].append(i)
        if len(self.by_class) < 2:
            raise parameter_error(
                "keys", "PKSampler", "labels of at least 2 classes (e.g. 2 denominations, or genuine and counterfeit)",
                sorted(self.by_class),
            )
        self.groups: dict[str, list[str]] = defaultdict(list)
        for k in sorted(self.by_class, key=lambda k: ("|genuine" not in k, k)):
            self.groups[denom_of_key(k)].append(k)  # genuine first: a partial group keeps the anchors
        self.P = min(classes_per_batch, len(self.by_class))
        self.K = images_per_class
        self.seed = seed
        self.epoch = 0
        self.batches_per_epoch = batches_per_epoch or max(1, -(-len(self.keys) // (self.P * self.K)))

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches :meth:`__iter__` yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.batches_per_epoch

    @property
    def batch_size(self) -> int:
        return self.P * self.K

    def __iter__(self) -> Iterator[list[int]]:
        rng = random.Random(f"{self.seed}|{self.epoch}")
        queues: dict[str, list[int]] = {k: [] for k in self.by_class}

        def draw(k: str) -> list[int]:
            items = self.by_class[k]
            if len(items) < self.K:
                return [rng.choice(items) for _ in range(self.K)]
            out: list[int] = []
            while len(out) < self.K:
                if not queues[k]:
                    queues[k] = rng.sample(items, len(items))
                candidate = queues[k].pop()
                if candidate not in out:
                    out.append(candidate)
            return out

        denoms = sorted(self.groups)
        order: list[str] = []
        for _ in range(self.batches_per_epoch):
            chosen: list[str] = []
            while len(chosen) < self.P:
                if not order:
                    order = rng.sample(denoms, len(denoms))
                d = order.pop()
                for k in self.groups[d]:
                    if k not in chosen and len(chosen) < self.P:
                        chosen.append(k)
            batch: list[int] = []
            for k in chosen:
                batch += draw(k)
            yield batch
