"""Per-part latency profile of the exported BCRNN and its float twin (LCE interpreter, batch 1).

    python -m research.speed.latency_profile [--model NAME=RUN_DIR ...] [--runs 15] [--threads 1] [--json J]

LCE's Python interpreter (0.16) exposes no per-op profiler (only `predict`), and TensorFlow's own
interpreter cannot run LCE's custom ops. So the network is cut into parts, each part is converted
on its own with the LCE converter at batch 1 (the trained layers, so the same weights), and every
part is timed with LCE's interpreter (1 thread by default; XNNPACK off and on), all interleaved
round-robin in one run so that the machine's load hits every figure alike:

    frontend          waveform (+ speaker statistics) -> standardized log-Mel, window stats, speech frames
    conv: binary conv log-Mel -> the first conv (with thermometer and XNOR K where the model has them)
    conv block        log-Mel -> the LSTM input sequence (conv, max-pool, BatchNorm, PReLU, reshape)
    lstm_fw: input proj    the 1x1 conv of all 150 steps (outside the loop)
    lstm_fw / lstm_bw the whole direction (input projection + WHILE loop of 150 steps + read-out)
    head              BiLSTM read-out -> FC, BatchNorm, PReLU, classifier
    full (log-Mel) / full (waveform)   the whole network, as exported

Derived rows: "conv block - binary conv" (pool, BN, PReLU, reshape), "lstm loop" (direction minus
its input projection), and "sum of parts" against the full waveform model. Each part's op count
counts a WHILE body 150 times (ops executed per window). Parts converted alone can fuse a little
differently from the whole; the sum-of-parts row shows how far that goes.
Conversions are cached (SER_BNN_SPEED_CACHE, default /tmp/ser_bnn_speed_cache).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from research.speed.speedkit import (
    DEFAULT_CACHE,
    cache_key,
    convert_cached,
    fmt_table,
    load_note,
    machine_load,
    op_executions,
    run_fingerprint,
    speech_windows,
    time_interleaved,
)

RUNS = Path("runs/ablation")  # benchmarks/ablation.py's default --runs
DEFAULT_MODELS = {"BCRNN": RUNS / "default-e12", "float twin": RUNS / "crnn-e12"}
PART_ORDER = (
    "frontend",
    "conv: binary conv",
    "conv block",
    "lstm_fw: input proj",
    "lstm_fw",
    "lstm_bw: input proj",
    "lstm_bw",
    "head",
    "full (log-Mel)",
    "full (waveform)",
)
SUM_PARTS = ("frontend", "conv block", "lstm_fw", "lstm_bw", "head")


def part_builders(model: Any, cfg: Any) -> dict[str, Callable[[], Any]]:
    """{part name: () -> Keras model at batch 1} calling `model`'s own layers (shared weights)."""
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.export.conversion import wrap_model
    from ser_bnn.export.graph import INPUT_NAMES, get_online_frontend_class, takes_stats

    fc, mc = cfg.features, cfg.model
    t, f = fc.segment_frames, fc.n_mels
    steps = t // mc.pool_size[0]
    seq_dim = (f // mc.pool_size[1]) * mc.conv_filters
    readout_dim = 2 * mc.lstm_units * (2 if mc.readout == "meanstd" else 1)
    names = {layer.name for layer in model.layers}

    def conv_front(x: Any) -> Any:
        x = model.get_layer("add_channel")(x)
        if "thermometer" in names:
            x = model.get_layer("thermometer")(x)
        return model.get_layer("bconv")(x)

    def frontend() -> Any:
        wave = keras.Input(shape=(fc.segment_samples,), batch_size=1, name=INPUT_NAMES[0])
        inputs = [wave]
        if takes_stats(fc):
            inputs.append(keras.Input(shape=(3, f), batch_size=1, name=INPUT_NAMES[1]))
        outs = get_online_frontend_class()(features=fc, name="online_frontend")(
            inputs if len(inputs) > 1 else wave
        )
        return keras.Model(inputs, list(outs), name="frontend")

    def binary_conv() -> Any:
        inp = keras.Input(shape=(t, f), batch_size=1)
        return keras.Model(inp, conv_front(inp), name="binary_conv")

    def conv_block() -> Any:
        inp = keras.Input(shape=(t, f), batch_size=1)
        x = conv_front(inp)
        for n in ("bconv_pool", "bconv_bn", "bconv_prelu", "to_sequence"):
            x = model.get_layer(n)(x)
        return keras.Model(inp, x, name="conv_block")

    def input_proj(direction: str) -> Callable[[], Any]:
        def build() -> Any:
            layer = model.get_layer(f"blstm_{direction}")
            inp = keras.Input(shape=(steps, seq_dim), batch_size=1)
            y = keras.layers.Lambda(lambda s: tf.squeeze(layer.input_proj(tf.expand_dims(s, 2)), 2))(inp)
            return keras.Model(inp, y, name=f"proj_{direction}")

        return build

    def lstm(direction: str) -> Callable[[], Any]:
        def build() -> Any:
            layer = model.get_layer(f"blstm_{direction}")
            seq = keras.Input(shape=(steps, seq_dim), batch_size=1)
            if mc.readout == "last":
                return keras.Model(seq, layer(seq), name=f"lstm_{direction}")
            valid = keras.Input(shape=(steps,), batch_size=1)
            return keras.Model([seq, valid], layer([seq, valid]), name=f"lstm_{direction}")

        return build

    def head() -> Any:
        inp = keras.Input(shape=(readout_dim,), batch_size=1)
        x = inp
        for n in ("bfc", "bfc_bn", "bfc_prelu", "classifier"):
            x = model.get_layer(n)(x)
        return keras.Model(inp, x, name="head")

    return {
        "frontend": frontend,
        "conv: binary conv": binary_conv,
        "conv block": conv_block,
        "lstm_fw: input proj": input_proj("fw"),
        "lstm_fw": lstm("fw"),
        "lstm_bw: input proj": input_proj("bw"),
        "lstm_bw": lstm("bw"),
        "head": head,
        "full (log-Mel)": lambda: wrap_model(model, fc, "logmel"),
        "full (waveform)": lambda: wrap_model(model, fc, "waveform"),
    }


def example_inputs(shapes: list[tuple[int, ...]], wave: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """One input per interpreter input shape: the speech window for a waveform input, zeros (the
    default statistics) for [1, 3, n_mels], ones for a [1, steps] validity mask, N(0, 1) otherwise."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if len(s) == 2 and s[1] == wave.shape[-1]:
            out.append(wave.reshape(s).astype(np.float32))
        elif len(s) == 3 and s[1] == 3:
            out.append(np.zeros(s, np.float32))
        elif len(s) == 2 and s[1] <= 1000 and s[1] >= 100:
            out.append(np.ones(s, np.float32))
        else:
            out.append(rng.standard_normal(s).astype(np.float32))
    return out


def convert_parts(
    name: str, run_dir: Path, parts: list[str], cache_dir: Path | None, log: Callable[[str], None]
) -> tuple[Any, dict[str, bytes]]:
    from ser_bnn.export.conversion import load_run

    run = load_run(run_dir)
    builders = part_builders(run.model, run.cfg)
    fbs = {}
    for p in parts:
        log(f"{name}: {p}")
        fbs[p] = convert_cached(
            builders[p], cache_key("profile-v1", run_fingerprint(run_dir), p), cache_dir, log
        )
    return run.cfg, fbs


def profile(
    models: dict[str, Path],
    runs: int = 15,
    threads: int = 1,
    xnnpack: tuple[bool, ...] = (False, True),
    cache_dir: Path | None = DEFAULT_CACHE,
    parts: tuple[str, ...] = PART_ORDER,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    from ser_bnn.runtime.interpreter import LceInterpreter

    wave = speech_windows(1)[0]
    result: dict[str, Any] = {"threads": threads, "runs": runs, "models": {}}
    interps: dict[tuple[str, str, bool], Any] = {}
    calls: dict[str, Callable[[], Any]] = {}
    for name, run_dir in models.items():
        cfg, fbs = convert_parts(name, run_dir, list(parts), cache_dir, log)
        steps = cfg.features.segment_frames // cfg.model.pool_size[0]
        entry = {"run_dir": str(run_dir), "parts": {}}
        for p, fb in fbs.items():
            ops = op_executions(fb, steps)
            entry["parts"][p] = {
                "size_bytes": len(fb),
                "ops_executed": ops["executed_total"],
                "ops_per_step": sum(ops["per_step"].values()),
                "executed_by_type": dict(ops["executed"].most_common()),
            }
            for xnn in xnnpack:
                it = LceInterpreter(fb, num_threads=threads, use_xnnpack=xnn)
                xs = example_inputs(it.input_shapes, wave)
                interps[(name, p, xnn)] = it
                calls[f"{name}|{p}|{xnn}"] = lambda it=it, xs=xs: it.invoke(xs)
        result["models"][name] = entry
    result["load_before"] = machine_load()
    log(f"timing {len(calls)} interpreters x {runs} runs, round-robin; {load_note(result['load_before'])}")
    timed = time_interleaved(calls, runs=runs, warmup=2)
    result["load_after"] = machine_load()
    for key, t in timed.items():
        name, p, xnn = key.split("|")
        result["models"][name]["parts"][p][f"ms_xnnpack_{'on' if xnn == 'True' else 'off'}"] = t["median_ms"]
    for entry in result["models"].values():
        entry["derived"] = derived_rows(entry["parts"], xnnpack)
    return result


def derived_rows(
    parts: dict[str, dict[str, Any]], xnnpack: tuple[bool, ...] = (False, True)
) -> dict[str, Any]:
    """Differences and sums of measured parts (ms, for each XNNPACK setting present)."""
    out: dict[str, dict[str, float]] = {}
    for xnn in xnnpack:
        k = f"ms_xnnpack_{'on' if xnn else 'off'}"

        def ms(p: str, k: str = k) -> float | None:
            return parts.get(p, {}).get(k)

        rows = {}
        if ms("conv block") is not None and ms("conv: binary conv") is not None:
            rows["conv block - binary conv (pool, BN, PReLU)"] = ms("conv block") - ms("conv: binary conv")
        for d in ("fw", "bw"):
            if ms(f"lstm_{d}") is not None and ms(f"lstm_{d}: input proj") is not None:
                rows[f"lstm_{d} loop (direction - input proj)"] = ms(f"lstm_{d}") - ms(
                    f"lstm_{d}: input proj"
                )
        if all(ms(p) is not None for p in SUM_PARTS):
            rows["sum of parts"] = sum(ms(p) for p in SUM_PARTS)
        for name, v in rows.items():
            out.setdefault(name, {})[k] = v
    return out


def format_profile(result: dict[str, Any]) -> str:
    lines = []
    for name, entry in result["models"].items():
        full = entry["parts"].get("full (waveform)", {})
        lines.append(
            f"\n{name}: {entry['run_dir']}  ({result['threads']} thread(s), median of {result['runs']})"
        )
        rows = []
        for p, r in entry["parts"].items():
            rows.append(
                {
                    "part": p,
                    **r,
                    "share": (r.get("ms_xnnpack_off") or 0) / full["ms_xnnpack_off"]
                    if full.get("ms_xnnpack_off")
                    else None,
                }
            )
        for p, r in entry["derived"].items():
            rows.append(
                {
                    "part": f"  = {p}",
                    **r,
                    "share": (r.get("ms_xnnpack_off") or 0) / full["ms_xnnpack_off"]
                    if full.get("ms_xnnpack_off")
                    else None,
                }
            )
        lines.append(
            fmt_table(
                rows,
                [
                    ("part", "part", ""),
                    ("size_bytes", "bytes", ","),
                    ("ops_executed", "ops/window", ","),
                    ("ops_per_step", "ops/step", ""),
                    ("ms_xnnpack_off", "ms", ".2f"),
                    ("share", "share", ".0%"),
                    ("ms_xnnpack_on", "ms +XNNPACK", ".2f"),
                ],
            )
        )
    names = list(result["models"])
    if len(names) == 2:
        a, b = (result["models"][n]["parts"] for n in names)
        lines.append(f"\nratio {names[0]} / {names[1]} (same run):")
        rows = []
        for p in a:
            if p in b:
                rows.append(
                    {
                        "part": p,
                        **{
                            k: a[p][k] / b[p][k]
                            for k in ("ms_xnnpack_off", "ms_xnnpack_on")
                            if a[p].get(k) and b[p].get(k)
                        },
                    }
                )
        lines.append(
            fmt_table(
                rows,
                [
                    ("part", "part", ""),
                    ("ms_xnnpack_off", "ratio", ".2f"),
                    ("ms_xnnpack_on", "ratio +XNNPACK", ".2f"),
                ],
            )
        )
    lines.append(
        f"\nload: before {result['load_before']['uptime']}\n      after  {result['load_after']['uptime']}"
    )
    lines.append(load_note(result["load_after"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=RUN_DIR",
        help="a finished run to profile (repeatable; default: BCRNN and float twin of the ablation)",
    )
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-xnnpack", action="store_true", help="only the default kernels")
    p.add_argument("--parts", nargs="+", default=list(PART_ORDER), choices=PART_ORDER, metavar="PART")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--json", type=Path, default=None, help="also write the result as JSON")
    args = p.parse_args(argv)
    models = dict(DEFAULT_MODELS)
    if args.model:
        models = {}
        for spec in args.model:
            name, sep, path = spec.partition("=")
            if not sep:
                p.error(f"--model needs NAME=RUN_DIR, got {spec!r}")
            models[name] = Path(path)
    missing = [f"{n}={d}" for n, d in models.items() if not (d / "config.json").is_file()]
    if missing:
        p.error(
            f"no finished run at {', '.join(missing)}: pass --model NAME=RUN_DIR for each model "
            "(e.g. --model BCRNN=runs/x --model 'float twin'=runs/y), or train the defaults with "
            "benchmarks/ablation.py --variants default,crnn"
        )
    xnn = (False,) if args.no_xnnpack else (False, True)
    result = profile(models, args.runs, args.threads, xnn, args.cache_dir, tuple(args.parts))
    print(format_profile(result))
    if args.json:
        from ser_bnn.atomic import atomic_write_text
        atomic_write_text(args.json, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "latency_profile.py"))
