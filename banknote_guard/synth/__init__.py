"""Synthetic banknotes of fictional currencies: designs, capture variation and counterfeit processes.

The entry point is :func:`banknote_guard.synth.generator.generate_dataset` (CLI: ``banknote-guard synth``);
the building blocks are :func:`~banknote_guard.synth.design.render_note` (a flat note),
:func:`~banknote_guard.synth.counterfeit.counterfeit` (a reproduction of it) and
:func:`~banknote_guard.synth.capture.capture` (a scan or photo of either, with the note's corners).
"""

from banknote_guard.synth.capture import capture
from banknote_guard.synth.counterfeit import METHODS, counterfeit
from banknote_guard.synth.currencies import CURRENCIES, DENOMINATIONS
from banknote_guard.synth.design import render_note
from banknote_guard.synth.generator import SynthOptions, SynthSummary, generate_dataset

__all__ = [
    "CURRENCIES",
    "DENOMINATIONS",
    "METHODS",
    "SynthOptions",
    "SynthSummary",
    "capture",
    "counterfeit",
    "generate_dataset",
    "render_note",
]
