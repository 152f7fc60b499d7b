"""Quality protocol: how well a trained model catches counterfeits and names denominations.

Run:  .venv/bin/python benchmarks/quality.py [--quick] [--out DIR] [--threads 2] [--epochs N]

Protocol (every figure on notes the network never saw in training):

1. Generate a synthetic dataset at the generator's "hard" setting.
   Default: 3 currencies x 4 denominations, 40 genuine + 28 counterfeit images each (4 per method).
2. Per currency, hold one denomination out of training entirely; of the other denominations keep 30%
   of the genuine notes and 30% of the counterfeits (spread over all methods) back as the test split.
3. Run "all methods": train (TrainConfig defaults unless --image-size / --epochs) on the
   training split, enroll each held-out denomination from 5 genuine images (no retraining), verify
   and evaluate the test split (trained and enrolled denominations).
4. Run "leave-methods-out": the same, but the training split has no counterfeits made with
   ``--leave-out`` methods (default: high_quality, raised_denomination); their AUC on the test split
   shows whether counterfeits of a kind never seen in training are still caught.

Prints a table of figures against the targets and writes ``OUT/quality.json``; each run's folder holds
its model, evaluation.json and plots.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

#: Methods left out of training in the second run, unless --leave-out says otherwise.
DEFAULT_LEAVE_OUT = ("high_quality", "raised_denomination")


def _plan(args: argparse.Namespace) -> tuple[Any, Any]:
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.synth.generator import SynthOptions

    if args.quick:
        synth = SynthOptions(currencies=2, denominations_per_currency=3, genuine_per_denomination=20,
                             counterfeit_per_denomination=14, difficulty=args.difficulty, seed=args.seed,
                             note_width=320, contact_sheet=False)
        train = TrainConfig(model=ModelConfig(backbone="small_cnn", embedding_dim=32, image_height=48, image_width=96),
                            pretrained=False, steps_per_epoch=0,
                            epochs=args.epochs or 2, classes_per_batch=4, images_per_class=4, patience=2,
                            seed=args.seed, num_threads=args.threads)
    else:
        synth = SynthOptions(currencies=args.currencies, denominations_per_currency=4,
                             genuine_per_denomination=args.genuine, counterfeit_per_denomination=args.counterfeit,
                             difficulty=args.difficulty, seed=args.seed, note_width=480, contact_sheet=False)
        # The engine's default training settings (the network a user gets): two runs take about
        # half an hour on two CPU cores.
        defaults = TrainConfig()
        train = replace(defaults, epochs=args.epochs or defaults.epochs, seed=args.seed, num_threads=args.threads)
    if args.image_size:
        h, w = args.image_size
        train = replace(train, model=replace(train.model, image_height=h, image_width=w))
    return synth, train


def _get(block: dict[str, Any] | None, key: str) -> float:
    if not block:
        return math.nan
    v = block.get(key)
    return math.nan if v is None else float(v)


def _row(name: str, value: float, target: float | None, *, pct: bool = False, count: bool = False) -> dict[str, Any]:
    met = None if target is None or math.isnan(value) else value >= target
    return {"figure": name, "value": value, "target": target, "met": met, "pct": pct, "count": count}


def _fmt(value: float | None, pct: bool, count: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if count:
        return f"{value:.0f}"
    return f"{100 * value:.2f}%" if pct else f"{value:.4f}"


def evidence_figures(run: Any, test_view: Path, trained: list[str], held_out: list[str]) -> dict[str, Any]:
    """ROC AUC of the embedding distance alone ("global"), the local evidence alone ("local") and their
    fusion (the counterfeit score), overall, per group and per counterfeit method (against all genuine
    notes of the group's denominations); empty when the model has no local evidence."""
    import numpy as np

    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.evaluation.metrics import catch_rate_at_far, roc_auc

    results = {str(Path(r.path).resolve()): r for r in run.evaluation.results if r.ok}
    recs = [r for r in discover_dataset(test_view).records if str(Path(r.path).resolve()) in results]
    res = [results[str(Path(r.path).resolve())] for r in recs]
    if not res or all(r.local_score is None for r in res):
        return {}
    y = np.array([0 if r.is_genuine else 1 for r in recs])
    kinds = {"global": np.array([r.global_score for r in res], float),
             "local": np.array([np.nan if r.local_score is None else r.local_score for r in res], float),
             "fused": np.array([r.counterfeit_score for r in res], float)}
    groups = {"all": np.ones(len(recs), bool), "trained": np.array([r.denom_id in trained for r in recs]),
              "enrolled": np.array([r.denom_id in held_out for r in recs])}
    methods = sorted({r.method for r in recs if not r.is_genuine and r.method})
    out: dict[str, Any] = {}
    for gname, gsel in groups.items():
        for kind, sc in kinds.items():
            ok = gsel & np.isfinite(sc)
            if len(set(y[ok].tolist())) == 2:
                out[f"{gname}/{kind}/auc"] = float(roc_auc(y[ok], sc[ok]))
                out[f"{gname}/{kind}/catch_at_1pct"] = float(catch_rate_at_far(y[ok], sc[ok], 0.01)[0])
    for m in methods:
        sel = (y == 0) | np.array([r.method == m for r in recs])
        for kind, sc in kinds.items():
            ok = sel & np.isfinite(sc)
            if len(set(y[ok].tolist())) == 2:
                out[f"method {m}/{kind}/auc"] = float(roc_auc(y[ok], sc[ok]))
    return out


def genuine_verdicts(run: Any, test_view: Path, trained: list[str], held_out: list[str]) -> dict[str, dict[str, int]]:
    """What the genuine test notes were called, per group ("trained", "enrolled"): verdict -> count.

    Every verdict but "genuine" counts as a false alarm in the figures; this says which part comes
    from the thresholds ("suspect") and which from the capture check ("retake") or the naming
    ("uncertain", "unknown")."""
    from banknote_guard.data.dataset import discover_dataset

    results = {str(Path(r.path).resolve()): r for r in run.evaluation.results}
    out: dict[str, dict[str, int]] = {"trained": {}, "enrolled": {}}
    for rec in discover_dataset(test_view).records:
        r = results.get(str(Path(rec.path).resolve()))
        if r is None or not rec.is_genuine:
            continue
        group = "trained" if rec.denom_id in trained else "enrolled" if rec.denom_id in held_out else None
        if group is not None:
            verdict = r.verdict or "error"
            out[group][verdict] = out[group].get(verdict, 0) + 1
    return out


def rebuild_run(model_path: Path, train_view: Path, enroll_view: Path, test_view: Path, out: Path,
                trained: list[str], held_out: list[str], progress: Any = None) -> Any:
    """Everything after the network, rebuilt with this code: the network of ``model_path``, the training
    split of ``train_view`` (the training and held-out notes split as training split them), enrollment of
    ``held_out`` from ``enroll_view`` and evaluation on ``test_view``; returns a
    :class:`~banknote_guard.workflows.demo.PipelineRun`."""
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.model.split import split_records
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.calibration import CalibrationConfig
    from banknote_guard.workflows.demo import enroll_and_evaluate
    from banknote_guard.workflows.training import build_bundle

    old = ModelBundle.load(model_path)
    config = TrainConfig.from_dict(old.train_config)
    records = list(discover_dataset(train_view).records)
    train_recs, val_recs = split_records(records, config.val_fraction, config.seed)
    far = float(old.summary.get("false_alarm_rate", old.calibration.false_alarm_rate))
    t0 = time.monotonic()
    bundle, _ = build_bundle(old.build_net().eval(), ModelConfig.from_dict(old.model_config), config, train_recs,
                             val_recs, calibration=CalibrationConfig(false_alarm_rate=far), progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    run = enroll_and_evaluate(bundle, out / "model.bgm", enroll_view, test_view, out, trained=trained,
                              held_out=held_out, progress=progress)
    run.stage_seconds["rebuild"] = time.monotonic() - t0 - run.stage_seconds["enroll"] - run.stage_seconds[
        "verify+evaluate"]
    return run


def _rebuild(args: argparse.Namespace, out: Path, dataset: Any, parts: dict[str, Any], views: dict[str, Path],
             trained: list[str], held_out: list[str], progress: Any) -> int:
    """Rebuild and evaluate every finished run in ``out`` (see ``--rebuild``); writes ``OUT/rebuilt.json``."""
    from banknote_guard.jsonable import to_jsonable
    from banknote_guard.workflows.demo import write_view

    figures: dict[str, Any] = {}
    for run_dir in sorted(out.glob("run_*")):
        model_path = run_dir / "model.bgm"
        if not model_path.is_file() or run_dir.name.endswith("_rebuilt"):
            continue
        name = run_dir.name[len("run_"):]
        left_out = name[len("without_"):] if name.startswith("without_") else None
        train_view = views["train"]
        if left_out is not None:
            view = out / "views" / f"train_{name}"
            train_view = view if view.is_dir() else write_view(dataset, training_without(parts, left_out), view)
        elif name == "leave_out":
            train_view = out / "views" / "train_leave_out"
        print(f"Rebuilding {name} ...", file=sys.stderr)
        run = rebuild_run(model_path, train_view, views["enroll"], views["test"], out / f"run_{name}_rebuilt",
                          trained, held_out, progress)
        per = run.metrics.get("per_method", {})
        figures[name] = {
            "auc_all": _get(run.metrics, "roc_auc"),
            "catch_at_1pct_all": _get(run.metrics, "catch_rate_at_1pct_far"),
            "auc_trained": _get(run.metrics.get("trained"), "roc_auc"),
            "catch_at_1pct_trained": _get(run.metrics.get("trained"), "catch_rate_at_1pct_far"),
            "auc_enrolled": _get(run.metrics.get("enrolled"), "roc_auc"),
            "catch_at_1pct_enrolled": _get(run.metrics.get("enrolled"), "catch_rate_at_1pct_far"),
            "flagged_at_thresholds_trained": _get(run.metrics.get("trained"), "catch_rate_at_model_thresholds"),
            "flagged_at_thresholds_enrolled": _get(run.metrics.get("enrolled"), "catch_rate_at_model_thresholds"),
            "per_method_auc": {m: _get(v, "roc_auc") for m, v in per.items()},
            "left_out": left_out,
            "left_out_auc": None if left_out is None else _get(per.get(left_out), "roc_auc"),
            "evidence": evidence_figures(run, views["test"], trained, held_out),
            "genuine_verdicts": genuine_verdicts(run, views["test"], trained, held_out),
            "seconds": run.stage_seconds,
        }
        (out / "rebuilt.json").write_text(json.dumps(to_jsonable({
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), "held_out": held_out, "figures": figures,
        }), indent=2), encoding="utf-8")
        f = figures[name]
        print(f"{name}: AUC all {_fmt(f['auc_all'], False)}, trained {_fmt(f['auc_trained'], False)} "
              f"(catch at 1% {_fmt(f['catch_at_1pct_trained'], True)}), enrolled {_fmt(f['auc_enrolled'], False)}"
              + ("" if left_out is None else f"; {left_out} left out: AUC {_fmt(f['left_out_auc'], False)}"))
    print(f"\nDetails: {out / 'rebuilt.json'}")
    return 0


def training_without(parts: dict[str, Any], method: str) -> list[Any]:
    """The training split without ``method``'s counterfeits (what a leave-one-out run trains on)."""
    return [r for r in parts["train"] if r.is_genuine or r.method != method]


def _leave_one_out(args: argparse.Namespace, out: Path, dataset: Any, parts: dict[str, Any], views: dict[str, Path],
                   methods: list[str], train: Any, trained: list[str], held_out: list[str], progress: Any,
                   started: float, synth_seconds: float) -> int:
    """Leave-one-method-out: per method, train without its counterfeits and measure how well the
    test split's counterfeits of that method are still caught (AUC against every genuine test note).
    Writes ``OUT/leave_one_out.json`` after every run, so a stopped run keeps what it measured."""
    from banknote_guard.jsonable import to_jsonable
    from banknote_guard.workflows.demo import train_enroll_evaluate, write_view

    plan = [] if args.skip_all_methods else [None]
    plan += methods
    figures: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for i, method in enumerate(plan, 1):
        name = "all_methods" if method is None else f"without_{method}"
        recs = parts["train"] if method is None else training_without(parts, method)
        view = views["train"] if method is None else write_view(dataset, recs, out / "views" / f"train_{name}")
        print(f"Run {i}/{len(plan)}: {name.replace('_', ' ')} ({len(recs)} training images)", file=sys.stderr)
        t0 = time.monotonic()
        run = train_enroll_evaluate(view, views["enroll"], views["test"], out / f"run_{name}", train,
                                    trained=trained, held_out=held_out, progress=progress)
        seconds[name] = time.monotonic() - t0
        per = run.metrics.get("per_method", {})
        ev = evidence_figures(run, views["test"], trained, held_out)
        figures[name] = {
            "auc_all": _get(run.metrics, "roc_auc"),
            "auc_trained": _get(run.metrics.get("trained"), "roc_auc"),
            "auc_enrolled": _get(run.metrics.get("enrolled"), "roc_auc"),
            "per_method_auc": {m: _get(v, "roc_auc") for m, v in per.items()},
            "left_out_auc": None if method is None else _get(per.get(method), "roc_auc"),
            "left_out_caught_at_1pct": None if method is None else _get(per.get(method),
                                                                         "catch_rate_at_1pct_far_overall"),
            "evidence": ev,
            "genuine_verdicts": genuine_verdicts(run, views["test"], trained, held_out),
        }
        result = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "held_out": held_out, "methods": methods, "figures": figures,
            "seconds": {"total": time.monotonic() - started, "synth": synth_seconds, **seconds},
        }
        (out / "leave_one_out.json").write_text(json.dumps(to_jsonable(result), indent=2), encoding="utf-8")
    print()
    print(f"Leave-one-method-out on a {args.difficulty} synthetic dataset; total {(time.monotonic() - started) / 60:.1f} min")
    with_all = figures.get("all_methods", {}).get("per_method_auc", {})
    print(f"{'method left out':<24}{'AUC left out':>14}{'caught @1%':>12}{'AUC with it':>13}{'target':>9}  met")
    for m in methods:
        f = figures.get(f"without_{m}", {})
        auc = f.get("left_out_auc")
        met = "" if auc is None or math.isnan(auc) else ("yes" if auc >= 0.95 else "NO")
        print(f"{m:<24}{_fmt(auc, False):>14}{_fmt(f.get('left_out_caught_at_1pct'), True):>12}"
              f"{_fmt(with_all.get(m), False):>13}{'>= 0.95':>9}  {met}")
    print(f"\nDetails: {out / 'leave_one_out.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the protocol, print the table, write ``OUT/quality.json``; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run to check the script (figures mean little)")
    parser.add_argument("--out", type=Path, default=Path("quality_run"), help="working folder (default ./quality_run)")
    parser.add_argument("--difficulty", default="hard", choices=("easy", "normal", "hard"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--currencies", type=int, default=3, help="fictional currencies, 4 denominations each")
    parser.add_argument("--genuine", type=int, default=40, help="genuine images per denomination")
    parser.add_argument("--counterfeit", type=int, default=28, help="counterfeit images per denomination")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: TrainConfig's; 2 with --quick)")
    parser.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), default=None,
                        help="network input size (default 64 128; 48 96 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--leave-out", nargs="+", default=list(DEFAULT_LEAVE_OUT), metavar="METHOD",
                        help="counterfeit methods left out of the second training run")
    parser.add_argument("--skip-leave-out", action="store_true", help="run only the all-methods protocol")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="leave-one-method-out: one training run per counterfeit method (every method, or those "
                             "given with --leave-out, in that order), each without that method's counterfeits")
    parser.add_argument("--skip-all-methods", action="store_true",
                        help="with --leave-one-out: skip the run with every method in training")
    parser.add_argument("--rebuild", action="store_true",
                        help="do not train: take the network of each run already in OUT (run_*/model.bgm) and "
                             "rebuild everything after it (gallery, thresholds, counterfeit head, print, local "
                             "evidence, enrollment) with this code, then evaluate; writes OUT/rebuilt.json")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(max(1, args.threads))
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.progress import TerminalProgress
    from banknote_guard.synth.generator import generate_dataset
    from banknote_guard.workflows.demo import choose_held_out, split_dataset, train_enroll_evaluate, write_view

    started = time.monotonic()
    synth, train = _plan(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    progress = TerminalProgress()

    t0 = time.monotonic()
    if args.rebuild and (out / "data" / "manifest.csv").is_file():
        print(f"Using the dataset in {out / 'data'} (the runs were trained on it)", file=sys.stderr)
    else:
        print(f"Generating {synth.difficulty} synthetic dataset into {out / 'data'} ...", file=sys.stderr)
        generate_dataset(out / "data", synth, progress=progress)
    synth_seconds = time.monotonic() - t0
    dataset = discover_dataset(out / "data")
    held_out = choose_held_out(dataset.denominations, 1)
    trained = [d for d in dataset.denominations if d not in held_out]
    parts = split_dataset(dataset, held_out=held_out, test_fraction=0.3, enroll_shots=5)
    views = {name: write_view(dataset, recs, out / "views" / name) for name, recs in parts.items()}
    leave_out = set(args.leave_out)
    if args.leave_one_out and "--leave-out" not in " ".join(sys.argv if argv is None else argv):
        leave_out = {r.method for r in parts["train"] if not r.is_genuine and r.method}
        args.leave_out = sorted(leave_out)
    lmo_train = [r for r in parts["train"] if r.is_genuine or r.method not in leave_out]
    if not args.skip_leave_out and not args.leave_one_out:
        views["train_leave_out"] = write_view(dataset, lmo_train, out / "views" / "train_leave_out")

    runs: dict[str, Any] = {}
    if args.rebuild:
        return _rebuild(args, out, dataset, parts, views, trained, held_out, progress)
    if args.leave_one_out:
        order = [m for m in args.leave_out if m in leave_out] + sorted(leave_out - set(args.leave_out))
        return _leave_one_out(args, out, dataset, parts, views, order, train, trained, held_out,
                              progress, started, synth_seconds)
    print(f"Run 1/2: all counterfeit methods in training ({len(parts['train'])} training images)", file=sys.stderr)
    runs["all_methods"] = train_enroll_evaluate(
        views["train"], views["enroll"], views["test"], out / "run_all_methods", train,
        trained=trained, held_out=held_out, progress=progress,
    )
    if not args.skip_leave_out:
        print(f"Run 2/2: without {', '.join(sorted(leave_out))} counterfeits in training "
              f"({len(lmo_train)} training images)", file=sys.stderr)
        runs["leave_out"] = train_enroll_evaluate(
            views["train_leave_out"], views["enroll"], views["test"], out / "run_leave_out", train,
            trained=trained, held_out=held_out, progress=progress,
        )

    a = runs["all_methods"].metrics
    rows = [
        _row("trained denominations: counterfeit vs genuine ROC AUC", _get(a.get("trained"), "roc_auc"), 0.99),
        _row("trained denominations: catch rate at 1% false alarms",
             _get(a.get("trained"), "catch_rate_at_1pct_far"), 0.95, pct=True),
        _row("all test notes: ROC AUC", _get(a, "roc_auc"), 0.99),
        _row("all test notes: catch rate at 1% false alarms", _get(a, "catch_rate_at_1pct_far"), 0.95, pct=True),
        _row("all test notes: catch rate at 0.1% false alarms", _get(a, "catch_rate_at_0.1pct_far"), None, pct=True),
        _row("all test notes: equal-error rate", _get(a, "eer"), None, pct=True),
        _row("all test notes: false alarms per 10,000 at model thresholds", _get(a, "false_alarms_per_10k"), None,
             count=True),
        _row("all test notes: counterfeits flagged at model thresholds",
             _get(a, "catch_rate_at_model_thresholds"), None, pct=True),
        _row("enrolled from 5 images: denomination accuracy", _get(a.get("enrolled"), "denomination_accuracy"),
             0.98, pct=True),
        _row("enrolled from 5 images: counterfeit ROC AUC", _get(a.get("enrolled"), "roc_auc"), 0.95),
        _row("trained denominations: denomination accuracy", _get(a.get("trained"), "denomination_accuracy"),
             None, pct=True),
    ]
    rows += [
        _row("trained denominations: false alarms per 10,000 at model thresholds",
             _get(a.get("trained"), "false_alarms_per_10k"), None, count=True),
        _row("trained denominations: counterfeits flagged at model thresholds",
             _get(a.get("trained"), "catch_rate_at_model_thresholds"), None, pct=True),
        _row("enrolled from 5 images: false alarms per 10,000 at model thresholds",
             _get(a.get("enrolled"), "false_alarms_per_10k"), None, count=True),
        _row("enrolled from 5 images: counterfeits flagged at model thresholds",
             _get(a.get("enrolled"), "catch_rate_at_model_thresholds"), 0.70, pct=True),
    ]
    evidence = evidence_figures(runs["all_methods"], views["test"], trained, held_out)
    verdicts = genuine_verdicts(runs["all_methods"], views["test"], trained, held_out)
    for group, counts in verdicts.items():
        total = sum(counts.values())
        for verdict in ("suspect", "uncertain", "retake", "unknown"):
            rows.append(_row(f"{group} genuine notes called {verdict}", counts.get(verdict, 0) / total if total else math.nan,
                             None, pct=True))
    for key in sorted(evidence):
        if key.endswith("/auc") or key.endswith("catch_at_1pct"):
            what = "catch at 1% false alarms" if key.endswith("catch_at_1pct") else "AUC"
            group, kind = key.split("/")[:2]
            rows.append(_row(f"evidence {kind}: {group} {what}", evidence[key], None,
                             pct=key.endswith("catch_at_1pct")))
    per_method_a = a.get("per_method", {})
    for method in sorted(per_method_a):
        rows.append(_row(f"method {method}: AUC (trained with it)", _get(per_method_a[method], "roc_auc"), None))
    if "leave_out" in runs:
        b = runs["leave_out"].metrics
        per_method_b = b.get("per_method", {})
        rows.append(_row("leave-out run: ROC AUC, all test notes", _get(b, "roc_auc"), None))
        for method in sorted(leave_out):
            rows.append(_row(f"method {method}: AUC, left out of training", _get(per_method_b.get(method), "roc_auc"),
                             None))
            rows.append(_row(f"method {method}: caught at 1% false alarms, left out",
                             _get(per_method_b.get(method), "catch_rate_at_1pct_far_overall"), None, pct=True))

    total_seconds = time.monotonic() - started
    counts = {
        "images": len(dataset),
        "train": len(parts["train"]),
        "enroll": len(parts["enroll"]),
        "test": len(parts["test"]),
        "test_genuine": sum(r.is_genuine for r in parts["test"]),
        "test_counterfeit": sum(not r.is_genuine for r in parts["test"]),
    }
    print()
    print(f"Quality on a {synth.difficulty} synthetic dataset: {counts['images']} images, "
          f"{len(trained)} trained + {len(held_out)} held-out denominations ({', '.join(held_out)}); "
          f"test split {counts['test']} notes ({counts['test_genuine']} genuine, {counts['test_counterfeit']} "
          "counterfeit), none seen in training")
    print(f"Network: {train.model.backbone}, {train.model.embedding_dim}-d embeddings, input "
          f"{train.model.image_height}x{train.model.image_width}, loss {train.loss}, {train.epochs} epochs max; "
          f"{args.threads} torch thread(s); total {total_seconds / 60:.1f} min")
    width = max(len(r["figure"]) for r in rows) + 2
    print(f"{'figure':<{width}}{'measured':>10}{'target':>10}  met")
    for r in rows:
        target = "" if r["target"] is None else ("\u2265 " + _fmt(r["target"], r["pct"]))
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        print(f"{r['figure']:<{width}}{_fmt(r['value'], r['pct'], r['count']):>10}{target:>10}  {met}".rstrip())

    from banknote_guard.jsonable import to_jsonable

    result = {
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "torch_threads": args.threads},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "synth": {k: v for k, v in vars(synth).items()},
        "train": train.to_dict(),
        "held_out": held_out,
        "left_out_methods": sorted(leave_out),
        "counts": counts,
        "seconds": {"total": total_seconds, "synth": synth_seconds,
                    **{f"{name}_{k}": v for name, run in runs.items() for k, v in run.stage_seconds.items()}},
        "rows": rows,
        "runs": {name: run.metrics for name, run in runs.items()},
        "evidence": evidence,
        "genuine_verdicts": verdicts,
    }
    (out / "quality.json").write_text(json.dumps(to_jsonable(result), indent=2), encoding="utf-8")
    print(f"\nDetails: {out / 'quality.json'}; models, evaluation.json and plots in {out}/run_*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
