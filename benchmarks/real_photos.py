"""Real photos of real notes through the product, as a new user would try it: enroll each denomination
from 5 photos, verify the others.

Run:  .venv/bin/python benchmarks/real_photos.py [--draws 8] [--quick] [--data DIR] [--workdir DIR]
      [--model assets/demo_model.bgm]

Per set (``irr_phone_crops``: IRR, phone photos cropped to the note, front and back; ``inr_handheld``: INR,
hand-held or on cluttered tables; and a small synthetic set made by ``api.generate_synthetic``), with the
bundled demo model through ``banknote_guard.api`` only:

- each draw loads the model afresh, copies 5 photos per denomination (both sides where the set labels
  them: 3 of one side and 2 of the other) into a temporary dataset (``<CUR>/<DEN>/genuine/``), enrolls it
  with ``api.enroll`` and verifies every other photo of the set with ``api.Verifier``;
- it prints the share of verified photos whose note outline was found, the denomination accuracy (mean
  and spread over the draws; a photo named as any other denomination, the model's own synthetic ones
  included, or not read, counts as wrong) and the verdict counts (summed over the draws).

The synthetic set has two currencies the demo model was trained on (verified as they are, without
enrolling) and two it never saw (enrolled from 5 images each draw, like the real sets).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchutil import machine_header  # noqa: E402

from banknote_guard import api  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "realdata"
SHOTS = 5
#: Synthetic currencies: the first two are the demo model's own, the other two it never saw.
SYNTH_TRAINED = ("KRT", "VLM")
SYNTH_UNSEEN = ("ODR", "MXQ")


@dataclass
class Photo:
    path: Path
    denomination: str  # "CUR/DEN"
    side: str = ""  # "front", "back" or "" (not labelled)


@dataclass
class Tally:
    """What the draws of one set gave."""

    accuracy: list[float] = field(default_factory=list)  # per draw
    verdicts: Counter = field(default_factory=Counter)
    verified: int = 0
    found: int = 0
    errors: int = 0
    seconds: float = 0.0
    confusions: Counter = field(default_factory=Counter)
    misnamed_genuine: int = 0  # named wrong and still called "genuine": what must never happen
    named_by_print: int = 0  # the print named the note on its own (models with print prototypes)


def read_set(folder: Path, side_column: str | None) -> list[Photo]:
    """The photos of a real set, from its labels.csv (file, side) and its folder layout."""
    photos = []
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rel = Path(row["file"])
            side = row.get(side_column, "") if side_column else ""
            photos.append(Photo(folder / rel, f"{rel.parts[0]}/{rel.parts[1]}", side))
    return [p for p in photos if p.path.is_file()]


def choose_shots(photos: list[Photo], rng: np.random.Generator) -> list[Photo]:
    """5 photos of one denomination: 3 of one side and 2 of the other when sides are labelled."""
    by_side: dict[str, list[Photo]] = {}
    for p in photos:
        by_side.setdefault(p.side, []).append(p)
    if len(by_side) == 2 and all(len(v) >= 3 for v in by_side.values()):
        sides = list(by_side)
        rng.shuffle(sides)
        first = [by_side[sides[0]][i] for i in rng.choice(len(by_side[sides[0]]), 3, replace=False)]
        second = [by_side[sides[1]][i] for i in rng.choice(len(by_side[sides[1]]), 2, replace=False)]
        return first + second
    return [photos[i] for i in rng.choice(len(photos), min(SHOTS, len(photos)), replace=False)]


def run_draw(model_path: Path, to_enroll: dict[str, list[Photo]], to_verify: list[Photo], work: Path,
             tally: Tally) -> None:
    """One draw: a fresh model, the chosen photos enrolled, the others verified; adds to ``tally``."""
    model = api.load_model(model_path)
    if to_enroll:
        view = Path(tempfile.mkdtemp(prefix="enroll_", dir=work))
        try:
            for denom, shots in to_enroll.items():
                cur, den = denom.split("/")
                dest = view / cur / den / "genuine"
                dest.mkdir(parents=True)
                for k, p in enumerate(shots):
                    shutil.copyfile(p.path, dest / f"{k}_{p.path.name}")
            report = api.enroll(model, view)
            for path, msg in report.errors:
                print(f"  enroll: {path}: {msg}")
        finally:
            shutil.rmtree(view, ignore_errors=True)
    t0 = time.perf_counter()
    results = api.Verifier(model).verify_paths([p.path for p in to_verify])
    tally.seconds += time.perf_counter() - t0
    right = 0
    for photo, res in zip(to_verify, results):
        tally.verified += 1
        if res.status != "ok":
            tally.errors += 1
            tally.verdicts["error"] += 1
            continue
        tally.found += bool(res.note_found)
        tally.verdicts[str(res.verdict)] += 1
        tally.named_by_print += bool(res.print_match and res.print_match.get("decided"))
        if res.denomination == photo.denomination:
            right += 1
        else:
            tally.confusions[(photo.denomination, str(res.denomination))] += 1
            tally.misnamed_genuine += res.verdict == "genuine"
    tally.accuracy.append(right / max(len(to_verify), 1))


def measure_real(name: str, photos: list[Photo], model_path: Path, draws: int, work: Path, seed: int) -> Tally:
    by_denom: dict[str, list[Photo]] = {}
    for p in photos:
        by_denom.setdefault(p.denomination, []).append(p)
    tally = Tally()
    for d in range(draws):
        rng = np.random.default_rng(seed + d)
        chosen = {denom: choose_shots(ps, rng) for denom, ps in sorted(by_denom.items())}
        picked = {p.path for shots in chosen.values() for p in shots}
        run_draw(model_path, chosen, [p for p in photos if p.path not in picked], work, tally)
    report(name, tally, len(photos), len(by_denom))
    return tally


def synthetic_photos(work: Path, quick: bool) -> list[Photo]:
    """A small synthetic set (genuine notes only; scans and photos, both sides), made once."""
    root = work / ("synth_quick" if quick else "synth")
    if not (root / "manifest.csv").exists():
        options = api.SynthOptions(currencies=4, denominations_per_currency=2 if quick else 4,
                                   genuine_per_denomination=10 if quick else 14, counterfeit_per_denomination=0,
                                   note_width=480, seed=12, jobs=1, contact_sheet=False)
        api.generate_synthetic(root, options, overwrite=True)
    photos = []
    for path in sorted(root.glob("*/*/genuine/*")):
        if api.is_image_file(path):
            side = "back" if "back" in path.stem else ("front" if "front" in path.stem else "")
            photos.append(Photo(path, f"{path.parts[-4]}/{path.parts[-3]}", side))
    return photos


def measure_synthetic(photos: list[Photo], model_path: Path, draws: int, work: Path, seed: int) -> None:
    trained = [p for p in photos if p.denomination.split("/")[0] in SYNTH_TRAINED]
    unseen = [p for p in photos if p.denomination.split("/")[0] in SYNTH_UNSEEN]
    tally = Tally()
    run_draw(model_path, {}, trained, work, tally)
    report("synthetic, denominations the model was trained on (not enrolled)", tally, len(trained),
           len({p.denomination for p in trained}))
    measure_real("synthetic, denominations the model never saw (enrolled from 5)", unseen, model_path, draws, work,
                 seed)


def report(name: str, t: Tally, n_photos: int, n_denoms: int) -> None:
    acc = np.array(t.accuracy) * 100
    spread = f" ± {acc.std():.1f} (min {acc.min():.1f}, max {acc.max():.1f})" if len(acc) > 1 else ""
    print(f"{name}: {n_photos} photos, {n_denoms} denominations, {len(acc)} draw(s), {t.verified} verifications")
    read = t.verified - t.errors
    print(f"  note outline found: {t.found}/{read} ({100 * t.found / max(read, 1):.1f}%)"
          f"{f'; {t.errors} not read' if t.errors else ''}")
    print(f"  denomination right: {acc.mean():.1f}%{spread}")
    verdicts = ", ".join(f"{v} {c} ({100 * c / max(t.verified, 1):.1f}%)" for v, c in t.verdicts.most_common())
    print(f"  verdicts: {verdicts}")
    print(f"  misnamed yet called genuine: {t.misnamed_genuine}/{t.verified} "
          f"({100 * t.misnamed_genuine / max(t.verified, 1):.1f}%); named by the print alone: "
          f"{t.named_by_print}/{t.verified} ({100 * t.named_by_print / max(t.verified, 1):.1f}%)")
    if t.confusions:
        worst = ", ".join(f"{a} as {b} x{c}" for (a, b), c in t.confusions.most_common(4))
        print(f"  most frequent confusions: {worst}")
    if t.verified:
        print(f"  verification: {t.verified / max(t.seconds, 1e-9):.1f} photos/s (api.Verifier.verify_paths)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=8, help="random draws of the 5 enrolled photos per set")
    parser.add_argument("--quick", action="store_true", help="3 draws and a smaller synthetic set")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder holding irr_phone_crops/, inr_handheld/")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/banknote_guard_bench/real_photos"))
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the bundled demo model)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    draws = min(args.draws, 3) if args.quick else args.draws
    model_path = args.model or Path(api.demo_model_path())
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(machine_header("Real photos: 5-shot enrollment and verification"))
    print(f"model: {model_path}; {draws} draw(s) of {SHOTS} enrolled photos per denomination")
    start = time.perf_counter()
    irr, inr = args.data / "irr_phone_crops", args.data / "inr_handheld"
    if (irr / "labels.csv").exists():
        measure_real("IRR (irr_phone_crops)", read_set(irr, "side"), model_path, draws, args.workdir, args.seed)
    else:
        print(f"IRR: no photos under {irr}: skipped")
    if (inr / "labels.csv").exists():
        measure_real("INR (inr_handheld)", read_set(inr, None), model_path, draws, args.workdir, args.seed)
    else:
        print(f"INR: no photos under {inr}: skipped")
    measure_synthetic(synthetic_photos(args.workdir, args.quick), model_path, draws, args.workdir, args.seed)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
