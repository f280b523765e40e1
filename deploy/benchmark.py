"""Size, latency and start-up of the graph `ser-bnn export` writes, against the float CRNN, same run.

    python deploy/benchmark.py [BCRNN.tflite] --float CRNN.tflite [--runs 15] [--json OUT]
    python deploy/benchmark.py [BCRNN.tflite] --make-twin CRNN.tflite   # an untrained CRNN default
    python deploy/benchmark.py --run BCRNN_RUN --twin-run CRNN_RUN      # research: the unrolled graph

BCRNN defaults to the bundled model (`ser_bnn.pretrained`). Both files are used as exported: every
input is fed (the waveform window and, for a speaker-statistics input, zeros: the default statistics
`ser-bnn predict` starts a file with) and every output is compared. `--make-twin PATH` converts the
float CRNN of the default preset (untrained: weights do not change its ops or its latency; the
BCRNN's front end, from its sidecar) with the export's converter, if PATH does not exist yet.

HEADLINE: the two shipped graphs at 1 thread with LCE's default kernels (what `ser-bnn predict`
runs) and with XNNPACK for the float ops (`predict --fast`), all four timed interleaved
(round-robin) in one run, median of `--runs` calls, and the ratio BCRNN / CRNN per setting. Each
setting is first checked against the default kernels over repeated calls: a fast setting that is
wrong is worse than a slow one. The CPU and its vector extensions are printed with the figures.
Then a per-op profile of the BCRNN (deploy/op_profile.py: where its time goes), a sweep of LCE
settings and threads per model, and the start-up cost of `ser-bnn predict` (fresh process to the
first prediction: wall time and peak RSS).

LCE's optimized binary kernels are written for arm64 (Android phones, Raspberry Pi 4). On x86
the LceBconv2d ops run LCE's reference kernels: the outputs are the same, the latencies are
not representative of a phone. Measure on the device (lce_benchmark_model or the Android demo).

`--run` (research, research/speed/SPEED.md): the LSTM unrolled (no WHILE loop, so LCE's indirect
BGEMM kernels are correct) and the fastest correct 1-thread setting for each model (`headline`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "deploy"))

from benchkit import (  # noqa: E402
    describe_machine,
    format_shipped,
    inputs_for,
    machine,
    make_twin,
    shipped_headline,
    time_interleaved,
    worst_diff,
)

import ser_bnn  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.runtime.interpreter import LceInterpreter  # noqa: E402

HEADLINE_CANDIDATES = {
    "lce default": {},
    "lce xnnpack": {"use_xnnpack": True},
    "lce indirect_bgemm": {"use_indirect_bgemm": True},
    "lce indirect_bgemm+xnnpack": {"use_indirect_bgemm": True, "use_xnnpack": True},
}
LCE_SETTINGS = {
    "lce default": {},
    "lce indirect_bgemm": {"use_indirect_bgemm": True},
    "lce xnnpack": {"use_xnnpack": True},
    "lce indirect_bgemm+xnnpack": {"use_indirect_bgemm": True, "use_xnnpack": True},
}


def _windows(n_samples: int, data_dir: Path | None) -> np.ndarray:
    """Two different 3 s windows of real speech (Emo-DB) if available, else two synthetic ones."""
    from ser_bnn.config import FeatureConfig
    from ser_bnn.data.audio import load_audio
    from ser_bnn.dsp.segments import segment_waveform

    if data_dir and (data_dir / "wav").is_dir():
        out = [segment_waveform(load_audio(data_dir / "wav" / f), FeatureConfig())[0]
               for f in ("03a01Fa.wav", "08b03Tc.wav")]
        return np.stack(out)[:, :n_samples]
    t = np.arange(n_samples) / 16000
    rng = np.random.default_rng(0)
    out = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.1 * rng.standard_normal(n_samples)])
    return out.astype(np.float32)


def bench_model(
    path: Path, windows: np.ndarray, threads: list[int], runs: int, warmup: int
) -> dict[str, Any]:
    """Every LCE setting x thread count for one model (all inputs fed, all outputs compared with
    the default kernels over repeated calls), timed interleaved."""
    data = path.read_bytes()
    calls, diffs = {}, {}
    for name, opts in LCE_SETTINGS.items():
        diffs[name] = worst_diff(data, opts, windows) if opts else 0.0
        for n in threads:
            it = LceInterpreter(data, num_threads=n, **opts)
            x = inputs_for(it, windows[0])
            calls[(name, n)] = lambda it=it, x=x: it.invoke(x)
    timed = time_interleaved(calls, runs, warmup)
    rows = [{"runtime": name, "threads": n, **t, "max_abs_diff_vs_default": diffs[name]}
            for (name, n), t in timed.items()]  # fmt: skip
    it = LceInterpreter(data)
    return {"file": path.name, "size_bytes": len(data), "input_shapes": [list(s) for s in it.input_shapes],
            "output_shapes": [list(s) for s in it.output_shapes], "latency": rows}  # fmt: skip


_inputs_for = inputs_for  # the research headline's names
repeated_call_check = worst_diff


def headline(models: dict[str, bytes | list[bytes]], windows: np.ndarray, runs: int, warmup: int,
             tolerance: float = 1e-5) -> dict[str, Any]:
    """For each model (or each list of candidate graphs of one model) the fastest 1-thread setting that
    passes `repeated_call_check`, then the chosen ones timed interleaved in one run."""
    from research.speed.speedkit import machine_load, op_executions, time_interleaved

    chosen: dict[str, Any] = {}
    for name, graphs in models.items():
        graphs = graphs if isinstance(graphs, list) else [graphs]
        cands, rejected = {}, []
        for g, data in enumerate(graphs):
            loops = op_executions(data, 1)["while_bodies"]
            label = f"{'WHILE' if loops else 'unrolled'} graph"
            for k, o in HEADLINE_CANDIDATES.items():
                if repeated_call_check(data, o, windows) > tolerance:
                    rejected.append(f"{k} ({label})")
                    continue
                it = LceInterpreter(data, **o)
                cands[(g, k)] = {"interp": it, "x": _inputs_for(it, windows[0]), "graph": label,
                                 "setting": k, "size_bytes": len(data)}
        quick = time_interleaved({key: (lambda c=c: c["interp"].invoke(c["x"])) for key, c in cands.items()},
                                 runs=max(3, runs // 4), warmup=1)
        best = min(quick, key=lambda key: quick[key]["median_ms"])
        chosen[name] = {**cands[best], "rejected_settings": rejected}
    load = machine_load()
    timed = time_interleaved({n: (lambda c=c: c["interp"].invoke(c["x"])) for n, c in chosen.items()},
                             runs=runs, warmup=warmup)
    out = {"load": load, "load_after": machine_load(), "models": {}}
    for name, c in chosen.items():
        out["models"][name] = {k: v for k, v in c.items() if k not in ("interp", "x")}
        out["models"][name].update(timed[name])
    names = list(models)
    if len(names) == 2:
        out["ratio"] = timed[names[0]]["median_ms"] / timed[names[1]]["median_ms"]
    return out


def format_headline(h: dict[str, Any]) -> list[str]:
    from research.speed.speedkit import load_note

    lines = ["HEADLINE: one 3 s window, 1 thread, fastest setting that stays correct over repeated calls; "
             "BCRNN and twin timed interleaved in the same run"]
    for name, m in h["models"].items():
        rejected = ", ".join(m["rejected_settings"]) or "none"
        lines.append(f"  {name:<16} {m['median_ms']:8.2f} ms  ({m['graph']}, {m['setting']}; "
                     f"{m['size_bytes']:,} B; rejected as wrong: {rejected})")
    if "ratio" in h:
        lines.append(f"  ratio BCRNN / float twin: {h['ratio']:.2f}  (target <= 1.0, goal <= 0.5)")
    lines.append(f"  {load_note(h['load_after'])}; uptime: {h['load_after']['uptime']}")
    if os.uname().machine not in ("aarch64", "arm64"):
        lines.append("  x86: LCE's binary kernels here are its portable reference code; "
                     "re-measure idle and on arm64")
    return lines


def chosen_graph(run_dir: Path, unroll: bool = True, shrunk: bool = False) -> Path:
    """A run's deployable graph (waveform in; LSTM unrolled, the chosen graph, or as a WHILE loop),
    converted once and cached (the same cache entries as research/speed/variants.py): its path. `shrunk`: the
    same graph after `research.speed.shrink.shrink` (same ops, bit-identical outputs; cached too)."""
    from research.speed.shrink import shrink
    from research.speed.speedkit import DEFAULT_CACHE, cache_key, convert_cached, run_fingerprint
    from ser_bnn.atomic import atomic_write_bytes
    from ser_bnn.export.conversion import load_run, wrap_model

    key = cache_key("variants-v1", run_fingerprint(run_dir), unroll, False)
    path = DEFAULT_CACHE / f"{key}.tflite"
    if not path.is_file():
        run = load_run(run_dir)
        convert_cached(lambda: wrap_model(run.model, run.cfg.features, "waveform"), key, DEFAULT_CACHE,
                       unroll=unroll)
    if not shrunk:
        return path
    small = path.with_name(f"{key}-shrunk.tflite")
    if not small.is_file():
        atomic_write_bytes(small, shrink(path.read_bytes()))
    return small


STARTUP = {
    "ser-bnn predict path (no TensorFlow)": (
        "from ser_bnn.runtime.predict import load_deployed\n"
        "m = load_deployed(MODEL)\n"
        "m.interpreter.invoke([np.zeros(s, np.float32) for s in m.interpreter.input_shapes])\n"
    ),
    "import larq_compute_engine (pulls TensorFlow)": (
        "import larq_compute_engine as lce\n"
        "it = lce.testing.Interpreter(open(MODEL, 'rb').read())\n"
        "it.predict([np.zeros(s, np.float32) for s in it.input_shapes])\n"
    ),
}
STARTUP_PRELUDE = "import sys\nimport numpy as np\nimport ser_bnn\nMODEL = sys.argv[1]\n"
# Peak RSS from /proc (VmHWM): getrusage's ru_maxrss survives exec(), so a child started by this
# (TensorFlow-loaded) process would report the parent's peak.
STARTUP_EPILOGUE = (
    "hwm = [ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
    "print(hwm, 'tensorflow' in sys.modules)\n"
)


def bench_startup(model: Path, repeats: int = 3) -> list[dict[str, Any]]:
    out = []
    for name, body in STARTUP.items():
        walls, rss, tf_loaded = [], [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", STARTUP_PRELUDE + body + STARTUP_EPILOGUE, str(model)],
                               capture_output=True, text=True, cwd=ROOT, timeout=600)
            walls.append(time.perf_counter() - t0)
            if p.returncode != 0:
                raise SystemExit(f"start-up probe failed: {p.stderr.strip().splitlines()[-1]}")
            kb, tf_flag = p.stdout.split()[-2:]
            rss.append(int(kb) / 1024)
            tf_loaded = tf_flag == "True"
        out.append({"case": name, "median_wall_s": statistics.median(walls),
                    "peak_rss_mb": statistics.median(rss), "tensorflow_imported": tf_loaded})
    return out


def _fmt_latency(result: dict[str, Any]) -> list[str]:
    """Wall time, and at 1 thread the calling thread's CPU time (other threads' work is not in it)."""
    head = f"  {'runtime':<28} {'threads':>7} {'wall ms':>9} {'p90 ms':>8} {'CPU ms':>8}"
    lines = [f"{head} {'max |dp| vs default':>20}"]
    for r in result["latency"]:
        flag = "  WRONG OUTPUTS" if r["max_abs_diff_vs_default"] > 1e-3 else ""
        cpu = f"{r['cpu_median_ms']:8.2f}" if r["threads"] == 1 else f"{'-':>8}"
        row = f"  {r['runtime']:<28} {r['threads']:>7} {r['median_ms']:>9.2f} {r['p90_ms']:>8.2f} {cpu}"
        lines.append(f"{row} {r['max_abs_diff_vs_default']:>20.2e}{flag}")
    return lines


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, nargs="?", default=None,
                   help="exported BCRNN .tflite (ser-bnn export; default: the bundled model)")
    p.add_argument("--float", dest="float_model", type=Path, default=None,
                   help="float CRNN .tflite written by `ser-bnn export` of a CRNN run")
    p.add_argument("--make-twin", type=Path, default=None, metavar="PATH",
                   help="without --float: convert the untrained CRNN of the default preset to PATH (kept "
                   "if it exists; needs the train extra) and compare with it")
    p.add_argument("--runs", type=int, default=15, help="timed calls per model and setting (median)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}),
                   help="thread counts of the sweep")
    p.add_argument("--headline-only", action="store_true",
                   help="only the headline: no profile, sweep or start-up")
    p.add_argument("--no-profile", action="store_true", help="skip the per-op profile of the BCRNN")
    p.add_argument("--no-sweep", action="store_true", help="skip the sweep of LCE settings and threads")
    p.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "emodb")
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    p.add_argument("--run", type=Path, default=None,
                   help="research: a BCRNN run directory; its unrolled graph is converted and the fastest "
                   "correct setting of each model compared (needs --twin-run or --float)")
    p.add_argument("--unshrunk", action="store_true",
                   help="with --run: the converter's graph as is (default: shrunk)")
    p.add_argument("--twin-run", type=Path, default=None, help="with --run: the float twin's run directory")
    return p


def _models(args: argparse.Namespace, p: argparse.ArgumentParser) -> tuple[Path, Path | None]:
    if args.run is not None:
        if args.model is not None:
            p.error("give MODEL or --run RUN_DIR (not both)")
        model = chosen_graph(args.run, shrunk=not args.unshrunk)
        return model, args.float_model or (chosen_graph(args.twin_run) if args.twin_run else None)
    if args.model is None:
        from ser_bnn.pretrained import default_model

        args.model = default_model()
    if not args.model.is_file():
        p.error(f"{args.model} not found")
    if args.float_model is not None and args.make_twin is not None:
        p.error("give --float or --make-twin, not both")
    if args.float_model is not None and not args.float_model.is_file():
        p.error(f"{args.float_model} not found")
    twin = args.float_model or (make_twin(args.model, args.make_twin) if args.make_twin else None)
    return args.model, twin


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    model, twin = _models(args, p)
    windows = _windows(max(int(np.prod(s)) for s in LceInterpreter(model).input_shapes), args.data_dir)
    results: dict[str, Any] = {"machine": machine(), "models": {},
                               "files": {n: {"file": f.name, "bytes": f.stat().st_size}
                                         for n, f in (("BCRNN", model), ("CRNN", twin)) if f}}  # fmt: skip
    print(f"machine: {describe_machine(results['machine'])}")
    if results["machine"]["load_average"][0] > 0.5 * results["machine"]["cores"]:
        print("warning: the machine is busy; absolute latencies are inflated (ratios measured in one run "
              "less so)")
    files = {"BCRNN": model, **({"CRNN": twin} if twin else {})}
    for name, path in files.items():
        it = LceInterpreter(path)
        print(f"{name}: {path}  {path.stat().st_size:,} B; inputs {[list(s) for s in it.input_shapes]}, "
              f"outputs {[list(s) for s in it.output_shapes]}")
    if twin:
        print(f"size ratio CRNN / BCRNN: {twin.stat().st_size / model.stat().st_size:.1f}x")
    if args.run is not None:
        graphs = {"BCRNN": model.read_bytes(), **({"float twin": [twin.read_bytes()]} if twin else {})}
        if twin and args.twin_run is not None and args.float_model is None:
            graphs["float twin"].append(chosen_graph(args.twin_run, unroll=False).read_bytes())
        results["headline"] = headline(graphs, windows, args.runs, args.warmup)
        print("\n" + "\n".join(format_headline(results["headline"])))
    else:
        models = {n: f.read_bytes() for n, f in files.items()}
        results["headline"] = shipped_headline(models, windows, runs=args.runs, warmup=args.warmup)
        print("\n" + "\n".join(format_shipped(results["headline"])))
    if not args.headline_only:
        _details(args, files, windows, results)
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=1) + "\n")
    return 0


def _details(args: argparse.Namespace, files: dict[str, Path], windows: np.ndarray, results: dict) -> None:
    if not args.no_profile:
        from op_profile import format_profile, profile_ops

        results["profile"] = profile_ops(files["BCRNN"].read_bytes(), windows[0], runs=max(5, args.runs // 2))
        print("\nBCRNN, " + format_profile(results["profile"]))
    if not args.no_sweep:
        for name, path in files.items():
            r = bench_model(path, windows, args.threads, args.runs, args.warmup)
            results["models"][name] = r
            print(f"\n{name}: LCE settings x threads, interleaved")
            print("\n".join(_fmt_latency(r)))
    if not args.no_startup:
        results["startup"] = bench_startup(files["BCRNN"])
        print(f"\n{'start-up to first prediction':<48} {'wall s':>7} {'peak RSS MB':>12}")
        for s in results["startup"]:
            print(f"{s['case']:<48} {s['median_wall_s']:>7.2f} {s['peak_rss_mb']:>12.0f}")


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "benchmark.py"))
