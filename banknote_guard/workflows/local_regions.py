"""Name the regions of a model's local evidence where the layout of a denomination is known.

Only the fictional currencies of the synthetic generator have a known layout
(:mod:`~banknote_guard.synth.layout`); each mode (side) of such a denomination's local memory takes
the layout of the side it matches, so a suspect region can be called "security thread" or "foil
patch" instead of a grid cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.bundle import ModelBundle


def name_synthetic_regions(bundle: "ModelBundle") -> list[str]:
    """Name the regions of every synthetic denomination in ``bundle``'s local memory, in place;
    returns the denominations named (none when the model has no local evidence)."""
    from banknote_guard.model.preprocess import prepared_size
    from banknote_guard.synth.layout import SIDES, is_synthetic, side_images, side_layout
    from banknote_guard.verify.local_evidence import feature_maps, name_layout

    memory = bundle.local_memory
    if memory is None:
        return []
    h, w = prepared_size(bundle.config)
    named = []
    for denom in sorted(memory.modes):
        if not is_synthetic(denom):
            continue
        sides = {side: feature_maps(im) for side, im in side_images(denom, h, w).items()}
        name_layout(memory, denom, {side: side_layout(denom, side) for side in SIDES}, sides)
        named.append(denom)
    return named
