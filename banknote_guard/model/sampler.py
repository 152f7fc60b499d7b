"""Class labels for metric learning and class-balanced (P x K) batches.

A denomination's genuine notes form one class (``"EUR/20|genuine"``) and its counterfeits another
(``"EUR/20|counterfeit"``). :class:`PKSampler` draws batches of P classes x K images and keeps a
denomination's two classes together in a batch, so the hardest negatives (a denomination's own
counterfeits) meet their genuine anchors in every batch where they exist. A denomination with genuine
images only is simply a class without a counterfeit partner.

Distributed training: with ``world_size`` N the sampler is the distributed P x K sampler. For an epoch
it draws the one global sequence of batches that a single process would draw, extended to a multiple
of N, and process ``rank`` takes batches ``rank, rank + N, rank + 2N, ...``. Each process therefore has
its own classes in each step, the processes together see exactly the batches of a single-process
epoch (plus at most N - 1 more, so that every process takes the same number of steps), and the plan
does not depend on how many processes there are, which lets a run resume under another world size.
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
        batches_per_epoch: batches of the whole epoch, all processes together (default: enough batches
            to show every item about once).
        rank, world_size: this process's index and the number of processes (distributed training);
            ``len(sampler)`` is then this process's share, ``ceil(batches_per_epoch / world_size)``.

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
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not isinstance(world_size, int) or world_size < 1:
            raise parameter_error("world_size", "PKSampler", "an integer >= 1", world_size)
        if not isinstance(rank, int) or not 0 <= rank < world_size:
            raise parameter_error("rank", "PKSampler", f"an integer in [0, {world_size - 1}]", rank)
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
        self.rank = rank
        self.world_size = world_size

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches :meth:`__iter__` yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        """Batches this process takes per epoch."""
        return -(-self.batches_per_epoch // self.world_size)

    @property
    def global_batches(self) -> int:
        """Batches of an epoch, all processes together (a multiple of ``world_size``)."""
        return len(self) * self.world_size

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
        for j in range(self.global_batches):
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
            if j % self.world_size == self.rank:
                yield batch
