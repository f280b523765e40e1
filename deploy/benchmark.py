"""Size, latency and start-up benchmark of an exported BCRNN and its float CRNN twin.

    python deploy/benchmark.py RUN_DIR/export/bcrnn.tflite [--float TWIN.tflite] [--runs 50]
    python deploy/benchmark.py --run BCRNN_RUN --twin-run CRNN_RUN    # the chosen graph, built from runs

Headline: the chosen configuration (research/speed/SPEED.md): the LSTM unrolled (no WHILE loop, so LCE's
indirect BGEMM kernels are correct) and, at 1 thread, the fastest LCE setting whose outputs stay
equal to the default kernels over repeated calls (`HEADLINE_CANDIDATES`), for the BCRNN and for
the float twin; the two are timed interleaved (round-robin) in the same run, and the ratio
BCRNN / twin is printed with the machine's load. `--run` converts the chosen graph from a run
directory (unrolled LSTM; cached like research/speed/variants.py; shrunk by `research.speed.shrink`, which
halves the unrolled graph's file without changing its ops: research/speed/shrink_graph.py) instead of reading
an exported file.

For each flatbuffer: file size, and the median latency of one 3 s window (after warm-up)
with LCE's interpreter (default kernels, indirect BGEMM, XNNPACK) at 1 thread and at all
cores; the float model also with TensorFlow Lite's own interpreter. Every setting is also
checked against LCE's default kernels on two different windows (invoked one after the
other), because a fast setting that is wrong is worse than a slow one.
Then the start-up cost of `ser-bnn predict` (fresh process to first prediction: wall time and
peak RSS) without and with TensorFlow imported, and the report's targets.

LCE's optimized binary kernels are written for arm64 (Android phones, Raspberry Pi 4). On x86
the LceBconv2d ops run LCE's reference kernels: the outputs are the same, the latencies are
not representative of a phone. Measure on the device (lce_benchmark_model or the Android demo).
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

import ser_bnn  # noqa: E402,F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.runtime.interpreter import LceInterpreter  # noqa: E402

TARGETS = {
    "bcrnn_size_mb": 0.45,
    "compression_vs_float_twin": 25.0,
    "binarized_mac_share": 0.99,
    "parity_top1": 1.0,
}
# 1-thread settings the headline picks from: the fastest one that passes `repeated_call_check`.
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


def _time(fn, x: np.ndarray, runs: int, warmup: int) -> dict[str, float]:  # noqa: ANN001
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(times), "min_ms": 1e3 * min(times),
            "p90_ms": 1e3 * float(np.quantile(times, 0.9))}


def bench_model(path: Path, windows: np.ndarray, threads: list[int], runs: int, warmup: int,
                tflite_too: bool) -> dict[str, Any]:
    data = path.read_bytes()
    ref_interp = LceInterpreter(data)
    shape = ref_interp.input_shape
    xs = [np.asarray(w, np.float32).reshape(shape) for w in windows]
    reference = [ref_interp.run(x) for x in xs]
    rows = []
    for name, opts in LCE_SETTINGS.items():
        for n in threads:
            interp = LceInterpreter(data, num_threads=n, **opts)
            outs = [interp.run(x) for x in xs]  # in order: the second call exposes stale state
            diff = max(float(np.abs(o - r).max()) for o, r in zip(outs, reference, strict=True))
            rows.append({"runtime": name, "threads": n, **_time(interp.run, xs[0], runs, warmup),
                         "max_abs_diff_vs_default": diff})
    if tflite_too:
        import tensorflow as tf

        kinds = tf.lite.experimental.OpResolverType
        resolvers = {"tf.lite (default, XNNPACK)": kinds.AUTO,
                     "tf.lite (no delegate)": kinds.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
        for name, resolver in resolvers.items():
            for n in threads:
                it = tf.lite.Interpreter(model_content=data, num_threads=n,
                                         experimental_op_resolver_type=resolver)
                it.allocate_tensors()
                i_idx, o_idx = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]

                def run(x: np.ndarray, it=it, i_idx=i_idx, o_idx=o_idx) -> np.ndarray:
                    it.set_tensor(i_idx, x)
                    it.invoke()
                    return it.get_tensor(o_idx)

                outs = [run(x).copy() for x in xs]
                diff = max(float(np.abs(o - r).max()) for o, r in zip(outs, reference, strict=True))
                rows.append({"runtime": name, "threads": n, **_time(run, xs[0], runs, warmup),
                             "max_abs_diff_vs_default": diff})
    return {"path": str(path), "size_bytes": len(data), "input_shape": list(shape), "latency": rows}


def _inputs_for(interp: LceInterpreter, window: np.ndarray) -> list[np.ndarray]:
    """The window for the signal input, zeros (default statistics) for a speaker-statistics input."""
    return [np.asarray(window, np.float32).reshape(s) if int(np.prod(s)) == window.size
            else np.zeros(s, np.float32) for s in interp.input_shapes]


def repeated_call_check(data: bytes, opts: dict[str, Any], windows: np.ndarray, rounds: int = 2) -> float:
    """Max |output - default kernels' output| over `rounds` passes over `windows` with ONE interpreter
    (a kernel that is only right on its first call fails), all outputs compared."""
    ref = LceInterpreter(data)
    want = [ref.invoke(_inputs_for(ref, w)) for w in windows]
    interp = LceInterpreter(data, **opts)
    worst = 0.0
    for _ in range(rounds):
        for w, r in zip(windows, want, strict=True):
            got = interp.invoke(_inputs_for(interp, w))
            worst = max(worst, *(float(np.abs(g - x).max()) for g, x in zip(got, r, strict=True)))
    return worst


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
        "m.interpreter.run(np.zeros(m.interpreter.input_shape, np.float32))\n"
    ),
    "import larq_compute_engine (pulls TensorFlow)": (
        "import larq_compute_engine as lce\n"
        "it = lce.testing.Interpreter(open(MODEL, 'rb').read())\n"
        "it.predict(np.zeros(it.input_shapes[0], np.float32))\n"
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


def load_now() -> float:
    return os.getloadavg()[0]


def _fmt_latency(result: dict[str, Any]) -> list[str]:
    lines = [f"{'runtime':<28} {'threads':>7} {'median ms':>10} {'p90 ms':>8} {'max |dp| vs default':>20}"]
    for r in result["latency"]:
        flag = "  WRONG OUTPUTS" if r["max_abs_diff_vs_default"] > 1e-3 else ""
        lines.append(f"{r['runtime']:<28} {r['threads']:>7} {r['median_ms']:>10.2f} {r['p90_ms']:>8.2f} "
                     f"{r['max_abs_diff_vs_default']:>20.2e}{flag}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, nargs="?", default=None,
                   help="exported BCRNN .tflite (ser-bnn export)")
    p.add_argument("--run", type=Path, default=None,
                   help="instead of MODEL: a BCRNN run directory; its chosen graph (unrolled LSTM) is "
                   "converted (needs --twin-run or --float for the ratio)")
    p.add_argument("--headline-only", action="store_true",
                   help="only the headline (chosen setting, BCRNN / twin ratio); no sweep, no start-up")
    p.add_argument("--unshrunk", action="store_true",
                   help="with --run: the converter's graph as is (default: shrunk, research.speed.shrink)")
    p.add_argument("--twin-run", type=Path, default=None, help="with --run: the float twin's run directory")
    p.add_argument("--float", dest="float_model", type=Path, default=None,
                   help="float CRNN twin .tflite (default MODEL.float-twin.tflite, from export --save-twin)")
    p.add_argument("--runs", type=int, default=20, help="timed runs per setting (median reported)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}))
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "emodb")
    p.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = p.parse_args(argv)
    if (args.model is None) == (args.run is None):
        p.error("give MODEL or --run RUN_DIR (not both)")

    if args.run is not None:
        model = chosen_graph(args.run, shrunk=not args.unshrunk)
        twin = args.float_model or (chosen_graph(args.twin_run) if args.twin_run else Path("/nonexistent"))
    else:
        model = args.model
        twin = args.float_model or model.with_name(model.stem + ".float-twin.tflite")
    report_path = model.with_name(model.stem + ".report.json")
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    n = LceInterpreter(model).input_shape[-1]
    windows = _windows(n, args.data_dir)

    load = os.getloadavg()[0]
    results: dict[str, Any] = {"machine": f"{os.uname().machine}, {os.cpu_count()} cores",
                               "load_average_1min": load, "models": {}}
    print(f"machine: {results['machine']}, load average {load:.1f} at start")
    if load > 0.5 * (os.cpu_count() or 1):
        print("warning: the machine is busy; latencies (multi-thread ones above all) are inflated")
    if os.uname().machine not in ("aarch64", "arm64"):
        print("note: LCE's optimized binary kernels are for arm64; on this machine LceBconv2d runs LCE's "
              "reference kernels (same outputs, latency not representative of a phone).")
    for name, path, tfl in (("BCRNN", model, False), ("float CRNN twin", twin, True)):
        if args.headline_only:
            break
        if not path.is_file():
            print(f"\n{name}: {path} not found (export with --save-twin or pass --float)")
            continue
        r = bench_model(path, windows, args.threads, args.runs, args.warmup, tfl)
        results["models"][name] = r
        print(f"\n{name}: {path}  {r['size_bytes']:,} B ({r['size_bytes'] / 1e6:.3f} MB, "
              f"{r['size_bytes'] / 2**20:.3f} MiB), input {r['input_shape']}")
        print("\n".join(_fmt_latency(r)))

    if twin.is_file():
        # the twin at its best: with --twin-run, its unrolled graph and its WHILE graph both compete
        twin_graphs = [twin.read_bytes()]
        if args.run is not None and args.twin_run is not None and args.float_model is None:
            twin_graphs.append(chosen_graph(args.twin_run, unroll=False).read_bytes())
        results["headline"] = headline({"BCRNN": model.read_bytes(), "float twin": twin_graphs},
                                       windows, args.runs, args.warmup)
    else:
        results["headline"] = headline({"BCRNN": model.read_bytes()}, windows, args.runs, args.warmup)
    print("\n" + "\n".join(format_headline(results["headline"])))

    if not args.no_startup and not args.headline_only:
        results["startup"] = bench_startup(model)
        print(f"\n{'start-up to first prediction':<48} {'wall s':>7} {'peak RSS MB':>12}")
        for s in results["startup"]:
            print(f"{s['case']:<48} {s['median_wall_s']:>7.2f} {s['peak_rss_mb']:>12.0f}")

    # targets
    print("\ntargets")
    head = results["headline"]["models"]
    size = results["models"].get("BCRNN", head.get("BCRNN", {})).get("size_bytes")
    twin_size = results["models"].get("float CRNN twin", head.get("float twin", {})).get("size_bytes")
    rows = []
    if size:
        rows.append(("BCRNN flatbuffer <= 0.45 MB", f"{size / 1e6:.3f} MB = {size / 2**20:.3f} MiB",
                     size / 1e6 <= TARGETS["bcrnn_size_mb"]))
    if size and twin_size:
        ratio = twin_size / size
        rows.append(("compression vs float twin >= 25x", f"{ratio:.1f}x",
                     ratio >= TARGETS["compression_vs_float_twin"]))
    share = report.get("summary", {}).get("binary_mac_share")
    if share is not None:
        rows.append(("binarized share of MACs >= 99 %", f"{100 * share:.3f} %",
                     share >= TARGETS["binarized_mac_share"]))
    par = report.get("parity", {}).get("settings", {})
    if par:
        top1 = min(r["top1_agreement"] for r in par.values())
        worst = max(r["max_abs_diff"] for r in par.values())
        rows.append(("parity top-1 100 %", f"{100 * top1:.1f} % (max |dp| {worst:.1e}, "
                     f"{report['parity']['windows']} windows)", top1 >= TARGETS["parity_top1"]))
    ratio = results["headline"].get("ratio")
    if ratio is not None:
        rows.append(("latency BCRNN / twin <= 1.0 (headline)", f"{ratio:.2f} (load {load_now():.1f})",
                     ratio <= 1.0))
    for k, v, ok in rows:
        print(f"  {k:<36} {v:<40} {'met' if ok else 'NOT MET'}")
    results["targets"] = [{"target": k, "value": v, "met": ok} for k, v, ok in rows]
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "benchmark.py"))
