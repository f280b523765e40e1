"""Shared pieces of the speed tools (latency_profile, variants, indirect BGEMM reproduction, shrink_graph;
deploy/benchmark.py uses them too).

- `machine_load()`: the load average and `uptime` line, printed next to every figure: the
  development machine is shared with training jobs, so absolute latencies vary with the load and
  only ratios measured in the same run (interleaved, `time_interleaved`) are comparable.
- `time_interleaved`: times several callables round-robin (one call of each per round), so a
  change of load during the measurement hits every setting alike.
- `convert_cached`: LCE conversion (tens of seconds each on a loaded 2-core machine) cached on disk
  by a caller-chosen key (run directory, weights file time stamp, variant, part).
- `op_executions`: operators executed per invocation, counting each WHILE body `steps` times
  (the op counts of `ser_bnn.runtime.flatbuffer.inspect_tflite` count a loop body once).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

import ser_bnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)

ROOT = Path(__file__).resolve().parents[2]

DEFAULT_CACHE = Path(os.environ.get("SER_BNN_SPEED_CACHE", "/tmp/ser_bnn_speed_cache"))
EMODB = ROOT.parent / "shared" / "data" / "emodb"


def cpu_model() -> str:
    """The CPU's model name and its widest x86 vector extensions (absolute ms depend on them)."""
    name, flags = os.uname().machine, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name == os.uname().machine:
                name = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    ext = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{name} ({', '.join(ext)})" if ext else name


def machine_load() -> dict[str, Any]:
    """{"load_1min", "cores", "cpu", "uptime"}: the state of the machine a figure was measured on."""
    try:
        up = subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        up = ""
    return {
        "load_1min": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count() or 1,
        "cpu": cpu_model(),
        "uptime": up,
    }


def load_note(load: Mapping[str, Any]) -> str:
    busy = load["load_1min"] > 0.5 * load["cores"]
    return f"load average {load['load_1min']:.2f} on {load['cores']} cores" + (
        " (BUSY: absolute ms inflated; compare ratios from the same run, re-measure idle)"
        if busy
        else " (idle)"
    )


def summarize(times_s: list[float]) -> dict[str, float]:
    """Median, min and p90 in ms of a list of durations in seconds."""
    if not times_s:
        raise ValueError("no timings")
    return {
        "median_ms": 1e3 * statistics.median(times_s),
        "min_ms": 1e3 * min(times_s),
        "p90_ms": 1e3 * float(np.quantile(times_s, 0.9)),
        "runs": len(times_s),
    }


def time_interleaved(
    fns: Mapping[str, Callable[[], Any]],
    runs: int,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, dict[str, float]]:
    """Time each callable `runs` times, round-robin (one call of each per round), after `warmup`
    calls of each: {name: summarize(...)}."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            t0 = clock()
            fn()
            times[k].append(clock() - t0)
    return {k: summarize(v) for k, v in times.items()}


def op_executions(flatbuffer: bytes, steps: int) -> dict[str, Any]:
    """Operators per invocation: {"static": Counter, "executed": Counter, "while_bodies": n,
    "per_step": Counter}; a WHILE body's ops count `steps` times, its condition `steps + 1` times."""
    from ser_bnn.runtime.flatbuffer import inspect_tflite

    info = inspect_tflite(flatbuffer)
    static: Counter = Counter()
    executed: Counter = Counter()
    per_step: Counter = Counter()
    bodies = 0
    for sg in info["subgraphs"]:
        ops = Counter(sg["ops"])
        static.update(ops)
        name = sg["name"] or ""
        if name.endswith("while_body") or "while_body" in name.rsplit("/", 1)[-1]:
            bodies += 1
            per_step.update(ops)
            executed.update({k: v * steps for k, v in ops.items()})
        elif "while_cond" in name.rsplit("/", 1)[-1]:
            executed.update({k: v * (steps + 1) for k, v in ops.items()})
        else:
            executed.update(ops)
    return {
        "static": static,
        "executed": executed,
        "while_bodies": bodies,
        "per_step": per_step,
        "executed_total": sum(executed.values()),
    }


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def convert_untraced(keras_model: Any) -> bytes:
    """LCE conversion like `ser_bnn.export.conversion.convert` (LCE's `convert_saved_model` on the
    model's serving signature), but the temporary SavedModel holds one traced function and the
    variables, not the Keras object graph, whose saver traces every layer's call functions several
    times over: the unrolled LSTM (150 steps x 2 directions) takes over 10 minutes that way."""
    import tempfile

    import tensorflow as tf
    from larq_compute_engine import convert_saved_model

    specs = [tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]) for t in keras_model.inputs]
    names = list(keras_model.output_names)

    @tf.function(input_signature=specs, autograph=False)  # autograph would rewrite Keras' internals
    def serve(*xs: Any) -> dict[str, Any]:
        out = keras_model(list(xs) if len(xs) > 1 else xs[0], training=False)
        out = out if isinstance(out, list | tuple) else [out]
        return dict(zip(names, out, strict=True))

    module = tf.Module()
    module.variables_ = list(keras_model.variables)
    module.serve = serve
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null, tempfile.TemporaryDirectory() as tmp:
            sys.stderr.flush()
            os.dup2(null.fileno(), 2)
            try:
                signature = {"serving_default": serve.get_concrete_function()}
                tf.saved_model.save(module, tmp, signatures=signature)
                return bytes(convert_saved_model(tmp))
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def convert_cached(
    build: Callable[[], Any],
    key: str,
    cache_dir: Path | None = DEFAULT_CACHE,
    log: Callable[[str], None] = lambda _: None,
    unroll: bool = False,
) -> bytes:
    """LCE flatbuffer of the Keras model `build()` returns, cached as CACHE_DIR/KEY.tflite.
    `unroll`: the LSTM loops traced unrolled (`unrolled_rnn`; the model is built before, so only the
    conversion's one trace is unrolled) and converted with `convert_untraced`."""
    from ser_bnn.export.conversion import convert

    path = cache_dir / f"{key}.tflite" if cache_dir else None
    if path is not None and path.is_file():
        return path.read_bytes()
    t0 = time.perf_counter()
    model = build()
    if unroll:
        with unrolled_rnn():
            fb = convert_untraced(model)
    else:
        fb = convert(model)
    log(f"  converted in {time.perf_counter() - t0:.0f} s: {len(fb):,} B")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(fb)
        tmp.replace(path)
    return fb


def run_fingerprint(run_dir: Path) -> tuple[str, float]:
    """(path, mtime of the weights) so a re-trained run is converted again."""
    from ser_bnn.training.rundir import WEIGHT_FILES

    for w in WEIGHT_FILES:
        if (run_dir / w).is_file():
            return str(run_dir.resolve()), (run_dir / w).stat().st_mtime
    return str(run_dir.resolve()), 0.0


def run_graph(run_dir: Path, unroll: bool = True, cache_dir: Path = DEFAULT_CACHE) -> Path:
    """A run's deployable graph (waveform in; LSTM unrolled, or as a WHILE loop), converted once and
    cached under the key `variants` uses for the run's own weights: the file's path."""
    from ser_bnn.export.conversion import load_run, wrap_model

    key = cache_key("variants-v1", run_fingerprint(run_dir), unroll, False)
    path = cache_dir / f"{key}.tflite"
    if not path.is_file():
        run = load_run(run_dir)
        build = lambda: wrap_model(run.model, run.cfg.features, "waveform")  # noqa: E731
        convert_cached(build, key, cache_dir, unroll=unroll)
    return path


def speech_windows(n: int, n_samples: int = 48000, data_dir: Path | None = EMODB) -> np.ndarray:
    """[n, n_samples] 3 s windows of Emo-DB test speakers (fixed split: 12 14 15 16) if the corpus is
    there, else synthetic tones and noise."""
    files = (
        sorted((data_dir / "wav").glob("1[2456]*.wav")) if data_dir and (data_dir / "wav").is_dir() else []
    )
    out: list[np.ndarray] = []
    if files:
        from ser_bnn.config import FeatureConfig
        from ser_bnn.data.audio import load_audio
        from ser_bnn.dsp.segments import segment_waveform

        step = max(1, len(files) // n)
        for f in files[::step][:n]:
            out.append(segment_waveform(load_audio(f), FeatureConfig())[0][:n_samples])
    rng = np.random.default_rng(0)
    t = np.arange(n_samples) / 16000
    while len(out) < n:
        k = len(out)
        out.append(0.2 * np.sin(2 * np.pi * (150 + 40 * k) * t) + 0.02 * rng.standard_normal(n_samples))
    return np.stack(out).astype(np.float32)


def fmt_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """Plain text table: columns = [(key, header, format spec)]; missing values print '-'."""
    heads = [h for _, h, _ in columns]
    body = []
    for r in rows:
        cells = []
        for key, _, spec in columns:
            v = r.get(key)
            cells.append("-" if v is None else (format(v, spec) if spec else str(v)))
        body.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(heads)]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)

    lines = [line(heads)] + [line(cells) for cells in body]
    return "\n".join(lines)


def bconv_weight_sharing(flatbuffer: bytes) -> dict[str, int]:
    """LceBconv2d ops (all subgraphs), the distinct constant buffers their filters use, and the bytes of
    those buffers: an unrolled loop that copied its per-step weights would show as many filter buffers
    as ops."""
    from ser_bnn.runtime.flatbuffer import builtin_op_names, parse

    raw = parse(flatbuffer)
    names = raw.op_names(builtin_op_names())
    ops, buffers = 0, set()
    for sg in raw.subgraphs:
        for code, inputs in sg.operators:
            if names[code] == "LceBconv2d" and len(inputs) > 1 and inputs[1] >= 0:
                ops += 1
                buffers.add(sg.tensors[inputs[1]].buffer)
    return {
        "bconv_ops": ops,
        "bconv_filter_buffers": len(buffers),
        "bconv_filter_bytes": sum(raw.buffer_bytes(b) for b in buffers),
    }


@contextlib.contextmanager
def unrolled_rnn() -> Iterator[None]:
    """Trace `keras.backend.rnn` with `unroll=True` (a Python loop over the fixed steps: no WHILE)."""
    import tf_keras as keras

    original = keras.backend.rnn

    def rnn(*args: Any, **kwargs: Any) -> Any:
        kwargs["unroll"] = True
        return original(*args, **kwargs)

    keras.backend.rnn = rnn
    try:
        yield
    finally:
        keras.backend.rnn = original
