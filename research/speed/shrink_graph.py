"""The chosen graph (LSTM unrolled) made smaller: where its bytes are, the shrunk file, its checks.

    python -m research.speed.shrink_graph --run RUN_DIR [--graph GRAPH.tflite] [--out OUT.tflite] [--json J]

1. The run's deployable graph with the LSTM unrolled (waveform in; `speedkit.run_graph`, converted
   once and cached like `variants`), or `--graph` (a flatbuffer converted from
   that run before: the parity gate below proves it is that run's function).
2. `research.speed.shrink.anatomy` before and after `shrink`: bytes in tensor names, tensor and
   operator tables, shape vectors, buffers, options, signature definitions, metadata.
3. Checks of the shrunk graph, for each LCE kernel setting (default, XNNPACK, indirect BGEMM,
   indirect BGEMM + XNNPACK), one interpreter per setting called on every window in turn:
   - identical: its outputs are bit-identical to the unshrunk graph's with the same setting;
   - the export's parity gate (`ser_bnn.export.parity_gate.parity`, top-1 on every window and
     max |dp| <= 1e-3 against the run's unchanged Keras network) on held-out Emo-DB test windows
     and the edge inputs (`variants.parity_check`).
4. `--twin GRAPH.tflite`: 1-thread latency of the unshrunk and the shrunk graph with each kernel
   setting and of the float twin (default kernels and XNNPACK), all timed interleaved
   (round-robin) in one run, and each one's ratio to the twin's fastest setting.
5. `--out`: the shrunk graph, written atomically only if every check passed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from research.speed.speedkit import load_note, machine_load, run_graph, speech_windows, time_interleaved
from ser_bnn.errors import SerBnnError

SETTINGS = {
    "lce_default": {},
    "lce_xnnpack": {"use_xnnpack": True},
    "lce_indirect": {"use_indirect_bgemm": True},
    "lce_indirect_xnnpack": {"use_indirect_bgemm": True, "use_xnnpack": True},
}


def _inputs(shapes: list[tuple[int, ...]], window: np.ndarray) -> list[np.ndarray]:
    return [window.reshape(s) if int(np.prod(s)) == window.size else np.zeros(s, np.float32) for s in shapes]


def identical_outputs(a: bytes, b: bytes, windows: np.ndarray, settings: dict[str, dict[str, Any]]
                      ) -> dict[str, float]:
    """{setting: max |out_a - out_b|} over all windows and outputs, one interpreter per graph and setting
    called on every window in turn (0.0 = bit-identical)."""
    from ser_bnn.runtime.interpreter import LceInterpreter

    out = {}
    for name, opts in settings.items():
        ia, ib = LceInterpreter(a, **opts), LceInterpreter(b, **opts)
        worst = 0.0
        for w in windows:
            ya, yb = ia.invoke(_inputs(ia.input_shapes, w)), ib.invoke(_inputs(ib.input_shapes, w))
            sa, sb = [y.shape for y in ya], [y.shape for y in yb]
            if sa != sb:
                raise SerBnnError(f"{name}: output shapes differ: {sa} vs {sb}")
            diffs = (float(np.max(np.abs(x - y))) if x.size else 0.0 for x, y in zip(ya, yb, strict=True))
            worst = max(worst, *diffs)
        out[name] = worst
    return out


def latencies(graphs: dict[str, bytes], twin: bytes, window: np.ndarray, runs: int) -> dict[str, Any]:
    """1-thread median ms of each graph at each SETTINGS entry and of the twin (default, XNNPACK), timed
    round-robin in one run; "ratio" = ms / the twin's fastest setting."""
    from ser_bnn.runtime.interpreter import LceInterpreter

    calls = {}
    for g, data in graphs.items():
        for name, opts in SETTINGS.items():
            calls[f"{g}|{name}"] = LceInterpreter(data, **opts)
    for name in ("lce_default", "lce_xnnpack"):
        calls[f"twin|{name}"] = LceInterpreter(twin, **SETTINGS[name])
    fns = {k: (lambda it=it: it.invoke(_inputs(it.input_shapes, window))) for k, it in calls.items()}
    load = machine_load()
    timed = time_interleaved(fns, runs=runs, warmup=2)
    twin_best = min(v["median_ms"] for k, v in timed.items() if k.startswith("twin|"))
    rows = {k: {"median_ms": v["median_ms"], "ratio": v["median_ms"] / twin_best} for k, v in timed.items()}
    return {"rows": rows, "runs": runs, "load_before": load, "load_after": machine_load()}


def format_anatomy(before: dict[str, Any], after: dict[str, Any]) -> str:
    kinds = sorted(set(before["parts"]) | set(after["parts"]), key=lambda k: -before["parts"].get(k, 0))
    lines = [f"{'part':<34} {'before B':>10} {'after B':>10}"]
    for k in kinds:
        lines.append(f"{k:<34} {before['parts'].get(k, 0):>10,} {after['parts'].get(k, 0):>10,}")
    lines.append(f"{'total':<34} {before['size_bytes']:>10,} {after['size_bytes']:>10,}")
    for k in ("tensors", "operators", "buffers", "buffers_with_data", "data_bytes", "duplicate_buffers",
              "duplicate_data_bytes"):
        lines.append(f"{k:<34} {before[k]:>10,} {after[k]:>10,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True, help="BCRNN run directory (weights, config)")
    p.add_argument("--graph", type=Path, default=None,
                   help="its unrolled graph, already converted (default: convert it, cached)")
    p.add_argument("--out", type=Path, default=None, help="write the shrunk graph here if every check passes")
    p.add_argument("--windows", type=int, default=4, help="held-out speech windows for the checks")
    p.add_argument("--no-parity", action="store_true", help="only the bit-identity check")
    p.add_argument("--twin", type=Path, default=None, help="the float twin's graph: time both against it")
    p.add_argument("--runs", type=int, default=8, help="timed runs per setting with --twin")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    if args.twin is not None and not args.twin.is_file():
        p.error(f"--twin {args.twin}: file not found")
    if not (args.run / "config.json").is_file():
        p.error(f"--run {args.run}: no config.json (not a run directory)")
    if args.graph is not None and not args.graph.is_file():
        p.error(f"--graph {args.graph}: file not found")

    from research.speed.shrink import anatomy, shrink
    from ser_bnn.atomic import atomic_write_bytes, atomic_write_text

    graph = args.graph or run_graph(args.run)
    data = graph.read_bytes()
    small = shrink(data)
    before, after = anatomy(data), anatomy(small)
    print(f"{graph}: {len(data):,} B -> {len(small):,} B\n{format_anatomy(before, after)}")
    windows = speech_windows(args.windows)
    load = machine_load()
    result: dict[str, Any] = {"run": str(args.run), "graph": str(graph), "before": before, "after": after,
                              "load": load}
    result["identical"] = identical_outputs(data, small, windows, SETTINGS)
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in result["identical"].items())
    print(f"max |shrunk - unshrunk| per setting: {diffs}")
    ok = all(v == 0.0 for v in result["identical"].values())
    if not args.no_parity:
        from research.speed.variants import Variant, load_variant, parity_check

        ld = load_variant(Variant("chosen", str(args.run.resolve()), unroll=True), runs=Path("/"))
        result["parity"] = parity_check(small, ld, windows, settings=SETTINGS)
        for k, v in result["parity"].items():
            print(f"parity gate {k}: {'PASS' if v['passed'] else 'FAIL'} "
                  f"(max |dp| {v.get('max_abs_diff', float('nan')):.1e}) {v.get('error', '')}")
        ok = ok and all(v["passed"] for v in result["parity"].values())
        result["uar"] = ld.uar
    if args.twin is not None:
        lat = latencies({"unshrunk": data, "shrunk": small}, args.twin.read_bytes(), windows[0], args.runs)
        result["latency"] = lat
        print(f"1 thread, median of {args.runs} interleaved runs; ratio = ms / twin's fastest setting")
        for k, v in lat["rows"].items():
            print(f"  {k:<34} {v['median_ms']:9.1f} ms  ratio {v['ratio']:.2f}")
        print(f"  load before: {lat['load_before']['uptime']}\n  load after:  {lat['load_after']['uptime']}")
    result["load_after"] = machine_load()
    print(f"{load_note(result['load_after'])}; uptime: {result['load_after']['uptime']}")
    result["passed"] = ok
    if args.out is not None:
        if not ok:
            print(f"not written: a check failed ({args.out})")
        else:
            atomic_write_bytes(args.out, small)
            print(f"wrote {args.out} ({len(small):,} B)")
    if args.json:
        atomic_write_text(args.json, json.dumps(result, indent=2, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "shrink_graph.py"))
