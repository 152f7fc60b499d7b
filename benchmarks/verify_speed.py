"""Verification speed end to end: decode the JPEG, find and rectify the note, embed, score.

Run:  .venv/bin/python benchmarks/verify_speed.py [--quick] [--model MODEL.bgm] [--notes 200] [--threads 2]
                                                 [--engine auto|torch|onnxruntime|both]

Setup (not timed): the model is ``--model``, else the bundled demo model (assets/demo_model.bgm) when
present, else a model of the default network configuration (ModelConfig()) trained for one epoch on a
small synthetic set -- its weights do not matter for speed, only its shape does. The notes are
synthetic captures (phone photos and flatbed scans, genuine and counterfeit, JPEG, the generator's
default note width of 640 pixels), generated once into ``--workdir`` and reused.

Engines (``--engine``): ``auto`` (default) is what the product uses -- onnxruntime on the model file's
ONNX network; ``torch`` runs the same weights with torch eager (the engine of earlier versions);
``both`` measures torch, then onnxruntime, each in its own child process (torch is never imported by
the onnxruntime one, as on a station), and prints the two side by side.

Measured in a fresh child process (so that peak memory is that of verification alone), with
``--threads`` threads for the network:

* batch throughput: ``api.verify_paths(model, files)`` over all notes (the real batch verifier:
  a thread pool reads and rectifies one batch ahead of the network), notes/second, best and median
  of ``--repeats`` runs after a warm-up;
* single-note latency, p50/p95 over every note after a warm-up: ``api.verify_image`` on an already
  decoded array, and ``api.verify_paths`` on one file (decode included);
* per-stage cost of one note at a time (decode, find + warp + resize, embed, score), wall time and
  process CPU time (all threads; less sensitive to other load on the machine), and the network's
  per-note cost in batches of 32;
* peak resident memory (getrusage ``ru_maxrss``) of the child, and its resident memory after
  imports and after loading the model;
* with ``--profile``: the top functions by own time (cProfile) of the one-note-at-a-time loop.

``--network`` measures only the network pass, the part onnxruntime replaces: 32 straightened notes
embedded in one batch and one at a time by torch eager, torch with channels-last input, and
onnxruntime, the three taking turns within one process (so that other load on the machine falls on all
three alike); best of ``--repeats`` rounds (at least 5), plus the largest difference between torch's and
onnxruntime's embeddings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _benchutil import COMMAND_ENV, command_line, current_rss_mib, machine_header, peak_rss_mib, percentile_ms

#: Targets of the product (2 CPU cores).
TARGET_NOTES_PER_S = 40.0
TARGET_P50_MS = 50.0


# --- setup (parent process) ------------------------------------------------------------------------


def _synth_options(n_notes: int, seed: int):  # noqa: ANN202 - SynthOptions, imported lazily
    from banknote_guard.synth.generator import SynthOptions

    currencies, denoms = 2, 4
    per_denom = max(2, -(-n_notes // (currencies * denoms)))
    counterfeit = max(1, per_denom // 3)
    return SynthOptions(
        currencies=currencies,
        denominations_per_currency=denoms,
        genuine_per_denomination=per_denom - counterfeit,
        counterfeit_per_denomination=counterfeit,
        difficulty="normal",
        photo_fraction=0.5,
        seed=seed,
        jobs=2,
        contact_sheet=False,
    )


def prepare_notes(workdir: Path, n_notes: int, seed: int) -> Path:
    """Generate (once) about ``n_notes`` synthetic captures into ``workdir``; returns the dataset folder."""
    from banknote_guard.synth.generator import generate_dataset

    opts = _synth_options(n_notes, seed)
    root = workdir / f"notes_{n_notes}_{seed}"
    stamp = root / ".complete"
    if not stamp.is_file():
        print(f"[setup] generating {n_notes} synthetic captures into {root} ...", file=sys.stderr)
        generate_dataset(root, opts)
        stamp.write_text("done\n", encoding="utf-8")
    return root


def prepare_model(args: argparse.Namespace, notes_root: Path) -> tuple[Path, str]:
    """The model to measure and a line describing where it came from."""
    from banknote_guard import api

    if args.model is not None:
        return Path(args.model), f"--model {args.model}"
    demo = api.demo_model_path()
    if demo.is_file() and not args.train_default:
        return demo, f"bundled demo model {demo}"
    from banknote_guard.model.config import ModelConfig, TrainConfig

    m = ModelConfig()
    key = hashlib.sha1(json.dumps(m.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
    path = args.workdir / f"default_{m.backbone}_{m.image_height}x{m.image_width}_{key}.bgm"
    if not path.is_file():
        print("[setup] training a default-configuration model for one epoch (weights do not matter for speed) ...",
              file=sys.stderr)
        config = TrainConfig(model=m, epochs=1, seed=0, num_threads=args.threads)
        api.train_model(notes_root, path, config)
    return path, f"ModelConfig() defaults, trained 1 epoch on synthetic notes ({path})"


# --- measurement (child process) ----------------------------------------------------------------------


def _ms(x: float) -> str:
    return f"{x:7.1f} ms"


def decode_max_side(config) -> int:  # noqa: ANN001 - ModelConfig
    """The longest side at which ``preprocess.load_and_prepare`` decodes a file for this model."""
    from banknote_guard.model import preprocess

    if hasattr(preprocess, "prepared_size"):
        return max(1600, 4 * config.image_width, 2 * preprocess.prepared_size(config)[1])
    return max(1600, 4 * config.image_width)


def _set_threads(bundle, engine: str, threads: int) -> None:  # noqa: ANN001 - ModelBundle
    """Network threads: torch's thread count, or a new onnxruntime session with that many threads."""
    if engine == "auto":
        engine = "onnxruntime" if bundle.has_onnx else "torch"
    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
        bundle.use_engine("torch")
    else:
        bundle.use_engine(engine, threads=threads)


def measure(args: argparse.Namespace) -> int:
    """Run every measurement and print the figures (runs in a fresh process)."""
    if args.engine == "torch":
        import torch

        torch.set_num_threads(args.threads)
    from banknote_guard import api
    from banknote_guard.data.imageio import iter_image_files
    from banknote_guard.model.preprocess import load_rgb, prepare_image
    from banknote_guard.verify.verifier import Verifier, score_embeddings

    rss_imports = current_rss_mib()
    bundle = api.load_model(args.model)
    config = bundle.config
    # Build the network now, not inside the first timed call.
    _set_threads(bundle, args.engine, args.threads)
    rss_model = current_rss_mib()
    decode_side = decode_max_side(config)
    paths = sorted(iter_image_files(args.notes_dir))[: args.notes]
    n = len(paths)
    print(machine_header("Verification speed", args.threads))
    print(f"model:   {args.model_origin}")
    print(f"engine:  {bundle.embedder.engine} ({args.engine!r} asked; model format {bundle.schema_version}, "
          f"ONNX network {'present' if bundle.has_onnx else 'absent'}), {args.threads} network threads")
    detail = getattr(config, "detail_patches", 0)
    branch = (f", texture branch: {detail} patches of {config.detail_patch_size} px from a "
              f"{config.detail_height}x{config.detail_width} note" if detail else ", no texture branch")
    print(f"         network {config.backbone}, input {config.image_height}x{config.image_width}, "
          f"{config.embedding_dim}-d embeddings{branch}, {len(bundle.denominations)} denominations")
    summary = bundle.summary or {}
    if summary.get("train_seconds") is not None:
        data = summary.get("dataset") or {}
        print(f"         trained {summary.get('epochs_trained', '?')} epochs in {float(summary['train_seconds']):.0f} s "
              f"({float(summary.get('images_per_second') or 0):.1f} training images/s) on "
              f"{data.get('train_images', '?')} training images; whole build {float(summary.get('seconds') or 0):.0f} s; "
              f"created {summary.get('created', '?')} (figures recorded in the model file)")
    verifier = Verifier(bundle)
    print(f"notes:   {n} synthetic JPEG captures (photos and scans, ~{_mean_size(paths)} pixels) in {args.notes_dir}")
    print(f"         verifier batch size {verifier.batch_size}, {verifier.workers} reader thread(s)")
    print()

    # Warm-up: first calls allocate, spawn threads and let oneDNN pick kernels.
    api.verify_paths(bundle, paths[: min(n, 2 * verifier.batch_size)])

    # 1. batch throughput
    times = []
    errors = 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        results = api.verify_paths(bundle, paths)
        times.append(time.perf_counter() - t0)
        errors = sum(not r.ok for r in results)
    rss_batch = peak_rss_mib()
    best, med = min(times), statistics.median(times)
    found = sum(bool(r.note_found) for r in results)
    print(f"batch:   api.verify_paths on {n} files, {args.repeats} runs: "
          f"{n / best:.1f} notes/s best, {n / med:.1f} notes/s median "
          f"({1000 * best / n:.1f} ms/note); {errors} errors; note outline found in {found}/{n}")

    # 2. single-note latency, decoded arrays (verify_image) and one file (verify_paths)
    decoded = [load_rgb(p, max_side=decode_side) for p in paths]
    for rgb in decoded[:10]:
        api.verify_image(bundle, rgb)
    lat_image = []
    for i, rgb in enumerate(decoded):
        t0 = time.perf_counter()
        api.verify_image(bundle, rgb, name=str(i))
        lat_image.append(time.perf_counter() - t0)
    lat_file = []
    for p in paths:
        t0 = time.perf_counter()
        api.verify_paths(bundle, [p])
        lat_file.append(time.perf_counter() - t0)
    print(f"single:  api.verify_image (decoded array)   p50 {percentile_ms(lat_image, 50):6.1f} ms   "
          f"p95 {percentile_ms(lat_image, 95):6.1f} ms   (n={len(lat_image)})")
    print(f"         api.verify_paths (one JPEG file)   p50 {percentile_ms(lat_file, 50):6.1f} ms   "
          f"p95 {percentile_ms(lat_file, 95):6.1f} ms   (n={len(lat_file)})")

    # 3. stages, one note at a time in this thread
    names = ("decode", "find+warp+resize", "embed (1 note)", "score")
    stages: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    embedder = bundle.embedder
    for i, p in enumerate(paths):
        t = [time.perf_counter()]
        c = [time.process_time()]
        rgb = load_rgb(p, max_side=decode_side)
        t.append(time.perf_counter())
        c.append(time.process_time())
        note, found_i = prepare_image(rgb, config)
        t.append(time.perf_counter())
        c.append(time.process_time())
        emb = embedder.embed([note])
        t.append(time.perf_counter())
        c.append(time.process_time())
        score_embeddings(bundle, emb, [str(i)], [found_i], [note])
        t.append(time.perf_counter())
        c.append(time.process_time())
        for j, key in enumerate(names):
            stages[key].append(t[j + 1] - t[j])
            cpu[key].append(c[j + 1] - c[j])
    notes = [prepare_image(rgb, config)[0] for rgb in decoded[:32]]
    batch_embed = []
    for _ in range(max(3, args.repeats)):
        t0 = time.perf_counter()
        embedder.embed(notes)
        batch_embed.append((time.perf_counter() - t0) / len(notes))
    total = sum(statistics.mean(v) for v in stages.values())
    print()
    print("stages, one note at a time: wall mean / p50 / p95, share of the mean total; process CPU time mean")
    for key, v in stages.items():
        m = statistics.mean(v)
        print(f"  {key:<18} {_ms(1000 * m)} {_ms(percentile_ms(v, 50))} {_ms(percentile_ms(v, 95))}   "
              f"{100 * m / total:5.1f}%   cpu {_ms(1000 * statistics.mean(cpu[key]))}")
    cpu_total = sum(statistics.mean(v) for v in cpu.values())
    print(f"  {'total':<18} {_ms(1000 * total)}{'':36}cpu {_ms(1000 * cpu_total)}")
    print(f"  embed in batches of {len(notes)}: {1000 * min(batch_embed):.2f} ms/note "
          f"(vs {1000 * statistics.median(stages['embed (1 note)']):.2f} ms for a batch of one)")

    # 3b. the same with one network thread (the reader threads and the network then do not compete)
    if args.threads != 1:
        _set_threads(bundle, args.engine, 1)
        api.verify_paths(bundle, paths[: min(n, verifier.batch_size)])
        t0 = time.perf_counter()
        api.verify_paths(bundle, paths)
        one_batch = time.perf_counter() - t0
        lat_one = []
        for i, rgb in enumerate(decoded):
            t0 = time.perf_counter()
            api.verify_image(bundle, rgb, name=str(i))
            lat_one.append(time.perf_counter() - t0)
        _set_threads(bundle, args.engine, args.threads)
        print(f"  with 1 network thread instead of {args.threads}: batch {n / one_batch:.1f} notes/s; "
              f"verify_image p50 {percentile_ms(lat_one, 50):.1f} ms, p95 {percentile_ms(lat_one, 95):.1f} ms")

    # 4. memory
    print()
    print(f"memory:  peak RSS {rss_batch:.0f} MiB after the batch runs (getrusage maxrss of the verifying process), "
          f"{peak_rss_mib():.0f} MiB at the end (this script then holds all {n} decoded photos); "
          f"RSS after imports {rss_imports:.0f} MiB, after loading the model {rss_model:.0f} MiB")

    # 5. profile
    if args.profile:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for i, p in enumerate(paths[: min(n, 100)]):
            rgb = load_rgb(p, max_side=decode_side)
            note, found_i = prepare_image(rgb, config)
            score_embeddings(bundle, embedder.embed([note]), [str(i)], [found_i], [note])
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(args.profile_top)
        print()
        print(f"profile: top {args.profile_top} functions by own time, one note at a time, {min(n, 100)} notes")
        lines = buf.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
        for line in lines[start:]:
            if line.strip():
                print("  " + line.rstrip())

    p50 = percentile_ms(lat_image, 50)
    print()
    print("targets (2 CPU cores):")
    print(f"  batch throughput  >= {TARGET_NOTES_PER_S:.0f} notes/s : {n / med:6.1f} notes/s (median)   "
          f"{'met' if n / med >= TARGET_NOTES_PER_S else 'MISSED'}")
    print(f"  single-note p50   <= {TARGET_P50_MS:.0f} ms      : {p50:6.1f} ms (verify_image)     "
          f"{'met' if p50 <= TARGET_P50_MS else 'MISSED'}")
    print(f"  single-file p50   <= {TARGET_P50_MS:.0f} ms      : {percentile_ms(lat_file, 50):6.1f} ms (verify_paths, 1 file) "
          f"{'met' if percentile_ms(lat_file, 50) <= TARGET_P50_MS else 'MISSED'}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "engine": bundle.embedder.engine, "threads": args.threads, "notes": n, "notes_per_s_best": n / best, "notes_per_s_median": n / med,
            "verify_image_p50_ms": p50, "verify_image_p95_ms": percentile_ms(lat_image, 95),
            "verify_file_p50_ms": percentile_ms(lat_file, 50), "verify_file_p95_ms": percentile_ms(lat_file, 95),
            "stages_ms": {k: 1000 * statistics.mean(v) for k, v in stages.items()},
            "stages_cpu_ms": {k: 1000 * statistics.mean(v) for k, v in cpu.items()},
            "peak_rss_batch_mib": rss_batch, "peak_rss_mib": peak_rss_mib(),
            "rss_imports_mib": rss_imports, "rss_model_mib": rss_model,
            "embed_batch32_ms_per_note": 1000 * min(batch_embed),
        }, indent=2), encoding="utf-8")
    return 0 if errors == 0 else 1


def _mean_size(paths: list[Path]) -> str:
    from PIL import Image

    sizes = []
    for p in paths[:20]:
        with Image.open(p) as im:
            sizes.append(im.size)
    if not sizes:
        return "0x0"
    return f"{round(statistics.mean(s[0] for s in sizes))}x{round(statistics.mean(s[1] for s in sizes))}"


def network_pass(args: argparse.Namespace, notes_root: Path, model_path: Path) -> int:
    """Only the network: torch eager, torch channels-last and onnxruntime on the same notes, in turns."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from banknote_guard import api
    from banknote_guard.data.imageio import iter_image_files
    from banknote_guard.model.embedder import prepare_paths
    from banknote_guard.model.preprocess import to_tensor

    bundle = api.load_model(model_path)
    notes = [n for n in prepare_paths(sorted(iter_image_files(notes_root))[:32], bundle.config)[0] if n is not None]
    print(machine_header("Network pass: torch vs onnxruntime", args.threads))
    print(f"model:   {model_path}; {len(notes)} straightened notes, input "
          f"{bundle.config.image_height}x{bundle.config.image_width}; best of {max(5, args.repeats)} rounds, engines in turn")
    net = bundle.build_net()
    ort = bundle.make_embedder("onnxruntime", threads=args.threads, batch_size=len(notes))

    def eager(batch):  # noqa: ANN001, ANN202
        with torch.inference_mode():
            return net(to_tensor(batch, bundle.config).contiguous()).numpy()

    def channels_last(batch):  # noqa: ANN001, ANN202
        with torch.inference_mode():
            return net(to_tensor(batch, bundle.config).contiguous(memory_format=torch.channels_last)).numpy()

    engines = {"torch eager": eager, "torch channels-last": channels_last, "onnxruntime": ort.embed}
    for fn in engines.values():  # warm-up
        fn(notes[:2])
    best = {k: [float("inf"), float("inf")] for k in engines}
    for _ in range(max(5, args.repeats)):
        for name, fn in engines.items():
            t0 = time.perf_counter()
            fn(notes)
            best[name][0] = min(best[name][0], time.perf_counter() - t0)
            t0 = time.perf_counter()
            for note in notes[:8]:
                fn([note])
            best[name][1] = min(best[name][1], (time.perf_counter() - t0) / 8)
    print(f"{'engine':24}{'batch of ' + str(len(notes)) + ', images/s':>24}{'one note, ms':>16}")
    for name, (batch_s, one_s) in best.items():
        print(f"{name:24}{len(notes) / batch_s:24.1f}{1000 * one_s:16.1f}")
    diff = float(np.abs(eager(notes) - ort.embed(notes)).max())
    print(f"largest |torch - onnxruntime| embedding difference: {diff:.2e}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="60 notes, 1 batch run (checks the script; a few figures)")
    ap.add_argument("--model", type=Path, default=None, help="model file (default: the demo model, else a default-config one)")
    ap.add_argument("--train-default", action="store_true",
                    help="measure a freshly trained ModelConfig() model even when the demo model exists")
    ap.add_argument("--notes", type=int, default=200, help="synthetic captures to verify (default 200)")
    ap.add_argument("--repeats", type=int, default=3, help="batch runs (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="network threads, torch or onnxruntime (default 2)")
    ap.add_argument("--engine", choices=("auto", "torch", "onnxruntime", "both"), default="auto",
                    help="what runs the network (default auto: onnxruntime when the model has its ONNX network); "
                    "both: torch, then onnxruntime, compared")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "banknote_guard_bench",
                    help="where notes and the default model are cached")
    ap.add_argument("--profile", action="store_true", help="also print the top cProfile entries")
    ap.add_argument("--profile-top", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--setup-only", action="store_true", help="generate the notes and the model, measure nothing")
    ap.add_argument("--network", action="store_true",
                    help="measure only the network pass: torch eager, torch channels-last, onnxruntime, in turns")
    ap.add_argument("--_measure", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_notes-dir", dest="notes_dir", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_model-origin", dest="model_origin", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.notes = min(args.notes, 60)
        args.repeats = 1
    if args._measure:
        return measure(args)

    args.workdir.mkdir(parents=True, exist_ok=True)
    notes_root = prepare_notes(args.workdir, args.notes, args.seed)
    model_path, origin = prepare_model(args, notes_root)
    if args.setup_only:
        print(f"notes in {notes_root}; model {model_path} ({origin})")
        return 0
    if args.network:
        return network_pass(args, notes_root, model_path)
    engines = ("torch", "onnxruntime") if args.engine == "both" else (args.engine,)
    figures: dict[str, dict] = {}
    code = 0
    for engine in engines:
        out_json = args.json if args.engine != "both" else Path(tempfile.mkdtemp()) / f"{engine}.json"
        child = [sys.executable, str(Path(__file__).resolve()), "--_measure", "--model", str(model_path),
                 "--_notes-dir", str(notes_root), "--_model-origin", origin, "--notes", str(args.notes),
                 "--repeats", str(args.repeats), "--threads", str(args.threads), "--profile-top", str(args.profile_top),
                 "--engine", engine]
        if args.profile:
            child.append("--profile")
        if out_json:
            child += ["--json", str(out_json)]
        env = dict(os.environ, **{COMMAND_ENV: command_line()})
        env.setdefault("OMP_NUM_THREADS", str(args.threads))
        code = subprocess.call(child, env=env) or code
        if args.engine == "both" and out_json and Path(out_json).is_file():
            figures[engine] = json.loads(Path(out_json).read_text(encoding="utf-8"))
        if len(engines) > 1:
            print()
    if len(figures) == 2:
        print(compare_engines(figures["torch"], figures["onnxruntime"]))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return code


def compare_engines(torch_fig: dict, ort_fig: dict) -> str:
    """The two engines' headline figures side by side (before: torch; after: onnxruntime)."""
    rows = [
        ("batch, notes/s (median)", "notes_per_s_median", "{:.1f}"),
        ("verify_image p50 / ms", "verify_image_p50_ms", "{:.1f}"),
        ("verify_image p95 / ms", "verify_image_p95_ms", "{:.1f}"),
        ("verify_paths 1 file p50 / ms", "verify_file_p50_ms", "{:.1f}"),
        ("embed, batch of 32, ms/note", "embed_batch32_ms_per_note", "{:.2f}"),
        ("peak RSS / MiB", "peak_rss_batch_mib", "{:.0f}"),
        ("RSS after imports / MiB", "rss_imports_mib", "{:.0f}"),
    ]
    lines = ["== torch (before) vs onnxruntime (after) ==", f"{'':32}{'torch':>10}{'onnxruntime':>14}{'ratio':>8}"]
    for label, key, fmt in rows:
        a, b = torch_fig.get(key), ort_fig.get(key)
        if a is None or b is None:
            continue
        ratio = f"{b / a:.2f}x" if a else ""
        lines.append(f"{label:32}{fmt.format(a):>10}{fmt.format(b):>14}{ratio:>8}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
