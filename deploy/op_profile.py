"""Per-op latency profile of any .tflite under LCE's interpreter, by timing prefixes of its graph.

    python deploy/op_profile.py MODEL.tflite [--runs 9] [--xnnpack] [--json OUT]

LCE's Python interpreter (0.16) has no profiler and TensorFlow's cannot run LCE's custom ops. So the
main graph is cut after each of its ops in execution order (operators truncated, that op's outputs
made the graph's outputs; weights, inputs and the WHILE bodies untouched) and every cut is timed with
LCE's interpreter at 1 thread, all cuts interleaved round-robin. The
graph is cut after every heavy op (WHILE, LceBconv2d, CONV_2D, FULLY_CONNECTED, RFFT2D), before it,
and where the part of the network changes (front end, conv block, each LSTM direction, FC head; from
the op's output tensor name). A cut's time is the median CPU time of the calling thread (which runs
the interpreter at 1 thread; other processes hardly change it, unlike wall time), made
non-decreasing along the graph; a segment's time is time(cut k) - time(cut k-1). A WHILE
op counts with its whole body (an LSTM direction's 150 steps). The inputs are a real speech window
(or noise) and, for a speaker-statistics input, zeros (the default statistics, count 0), as
`ser-bnn predict` starts a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from benchkit import inputs_for, time_interleaved  # noqa: E402

from ser_bnn.runtime.flatbuffer import builtin_op_names, schema  # noqa: E402
from ser_bnn.runtime.interpreter import LceInterpreter  # noqa: E402


def _unpack(data: bytes) -> Any:
    from ser_bnn.runtime.flatbuffer import parse

    parse(data)  # checks every offset first: the generated reader does not
    return schema().ModelT.InitFromPackedBuf(bytearray(data), 0)


def op_labels(data: bytes) -> list[str]:
    """'OPNAME -> output tensor name' for each op of the main graph, in execution order."""
    model = _unpack(data)
    names = builtin_op_names()
    codes = []
    for c in model.operatorCodes:
        code = max(c.builtinCode, c.deprecatedBuiltinCode)
        codes.append(c.customCode.decode() if c.customCode else names.get(code, f"builtin_{code}"))
    g = model.subgraphs[0]
    out = []
    for op in g.operators:
        first = op.outputs[0] if op.outputs is not None and len(op.outputs) else -1
        tensor = g.tensors[first].name.decode() if first >= 0 else "-"
        out.append(f"{codes[op.opcodeIndex]} -> {tensor}")
    return out


def cut_after(data: bytes, k: int) -> bytes:
    """The model whose main graph runs its first k ops (k >= 1) and returns op k's outputs."""
    import flatbuffers

    model = _unpack(data)
    g = model.subgraphs[0]
    if not 1 <= k <= len(g.operators):
        raise ValueError(f"k must be in 1..{len(g.operators)}, got {k}")
    g.operators = g.operators[:k]
    g.outputs = np.asarray([t for t in g.operators[-1].outputs if t >= 0], np.int32)
    model.signatureDefs = None  # they name the original outputs
    builder = flatbuffers.Builder(len(data) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


HEAVY_OPS = ("WHILE", "LceBconv2d", "CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "RFFT2D")
PARTS = (  # output-tensor scope -> part of the network (first match)
    ("online_frontend", "front end"), ("StatefulPartitionedCall:1", "front end"),
    ("StatefulPartitionedCall:2", "front end"), ("blstm_fw", "LSTM forward"),
    ("blstm_bw", "LSTM backward"), ("blstm", "LSTM"), ("valid_steps", "LSTM"), ("lstm", "LSTM"),
    ("bfc", "FC head"), ("classifier", "FC head"), ("StatefulPartitionedCall:0", "FC head"),
    ("fc", "FC head"), ("conv", "conv block"), ("add_channel", "conv block"),
    ("to_sequence", "conv block"),
)  # fmt: skip


def part_of(tensor: str) -> str:
    """The part of the network an op belongs to, from its output tensor's name."""
    for scope, part in PARTS:
        if scope in tensor:
            return part
    return "other"


def cut_points(labels: list[str]) -> list[int]:
    """Cut after op k (1-based) where the part changes, around every heavy op, and at the end."""
    ops = [lab.partition(" -> ") for lab in labels]
    cuts = []
    for k in range(1, len(ops) + 1):
        op, _, tensor = ops[k - 1]
        last = k == len(ops)
        nxt = ops[k] if not last else None
        if last or op in HEAVY_OPS or nxt[0] in HEAVY_OPS or part_of(tensor) != part_of(nxt[2]):
            cuts.append(k)
    return cuts


def profile_ops(
    data: bytes, window: np.ndarray, *, runs: int = 9, warmup: int = 2, **opts: Any
) -> dict[str, Any]:
    """The time of each segment of ops between two cuts (module docstring), all timed in one run."""
    labels = op_labels(data)
    calls = {}
    for k in cut_points(labels):
        it = LceInterpreter(cut_after(data, k) if k < len(labels) else data, num_threads=1, **opts)
        x = inputs_for(it, window)
        try:
            it.invoke(x)
        except RuntimeError:  # an output type LCE's wrapper cannot return (complex64): timed with the next
            continue
        calls[k] = lambda it=it, x=x: it.invoke(x)
    timed = time_interleaved(calls, runs, warmup)
    rows, before, start = [], 0.0, 1
    for k in sorted(calls):
        cum = max(before, timed[k]["cpu_median_ms"])
        seg = [labels[j - 1].partition(" -> ") for j in range(start, k + 1)]
        kinds = [op for op, _, _ in seg]
        name = kinds[0] if len(kinds) == 1 else ", ".join(sorted(set(kinds), key=kinds.index))
        rows.append({"first": start - 1, "last": k - 1, "ops": name, "n_ops": len(seg),
                     "part": part_of(seg[-1][2]), "output": seg[-1][2], "cumulative_ms": cum,
                     "ms": cum - before})  # fmt: skip
        before, start = cum, k + 1
    parts: dict[str, dict[str, float]] = {}
    for r in rows:
        t = parts.setdefault(r["part"], {"n_ops": 0, "ms": 0.0})
        t["n_ops"] += r["n_ops"]
        t["ms"] += r["ms"]
    return {"segments": rows, "by_part": dict(sorted(parts.items(), key=lambda kv: -kv[1]["ms"])),
            "total_ms": before, "full_graph_median_ms": timed[len(labels)]["median_ms"], "runs": runs,
            "threads": 1, "settings": opts, "n_ops": len(labels)}  # fmt: skip


def format_profile(p: dict[str, Any], top: int = 10) -> str:
    total = p["total_ms"]
    lines = [f"per-op profile ({p['n_ops']} ops of the main graph in {len(p['segments'])} cuts, median CPU "
             f"time of {p['runs']} interleaved runs per cut, {p['threads']} thread): {total:.1f} ms (whole "
             f"graph: wall median {p['full_graph_median_ms']:.1f} ms)"]  # fmt: skip
    lines.append(f"  {'part of the network':<22} {'ops':>4} {'ms':>8} {'share':>6}")
    for name, t in p["by_part"].items():
        lines.append(f"  {name:<22} {t['n_ops']:>4} {t['ms']:>8.2f} {100 * t['ms'] / total:>5.1f}%")
    lines.append(f"  the {top} slowest cuts (ops, part, output tensor):")
    for r in sorted(p["segments"], key=lambda r: -r["ms"])[:top]:
        ops = r["ops"] if len(r["ops"]) <= 34 else r["ops"][:31] + "..."
        where = f"#{r['first']}-{r['last']}"
        lines.append(f"  {r['ms']:8.2f} ms {100 * r['ms'] / total:5.1f}%  {where:<8} {ops:<34} "
                     f"{r['part']:<13} {r['output'][-40:]}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, help="a .tflite (for example one written by `ser-bnn export`)")
    p.add_argument("--runs", type=int, default=9, help="timed runs per cut (median)")
    p.add_argument("--xnnpack", action="store_true", help="XNNPACK for the float ops (`predict --fast`)")
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "emodb")
    p.add_argument("--json", type=Path, default=None, help="also write the profile as JSON")
    args = p.parse_args(argv)
    if not args.model.is_file():
        raise SystemExit(f"op_profile.py: error: {args.model} not found")
    data = args.model.read_bytes()
    window = speech_window(LceInterpreter(data).input_shapes, args.data_dir)
    prof = profile_ops(data, window, runs=args.runs, use_xnnpack=args.xnnpack)
    print(format_profile(prof))
    if args.json:
        from ser_bnn.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(prof, indent=1) + "\n")
    return 0


def speech_window(input_shapes: list[tuple[int, ...]], data_dir: Path | None) -> np.ndarray:
    """The first window of Emo-DB's 03a01Fa.wav if the corpus is there, else seeded noise; sized for
    the model's largest input."""
    n = max(int(np.prod(s)) for s in input_shapes)
    wav = data_dir / "wav" / "03a01Fa.wav" if data_dir else None
    if wav is not None and wav.is_file():
        from ser_bnn.data.audio import load_audio

        x = load_audio(wav)[:n]
        return np.pad(x, (0, n - len(x))).astype(np.float32)
    return (0.1 * np.random.default_rng(0).standard_normal(n)).astype(np.float32)


if __name__ == "__main__":
    sys.exit(main())
