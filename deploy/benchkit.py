"""deploy/benchmark.py's parts for the shipped graphs: the machine, the headline and the float CRNN.

- `machine()`: CPU model, its vector extensions (x86 AVX/AVX-512 flags, arm64 NEON/dot-product/SVE
  features), cores and load average, from /proc (Linux) with a portable fallback.
- `shipped_headline()`: the BCRNN and the CRNN as exported, at 1 thread, with LCE's default kernels
  (`ser-bnn predict`) and XNNPACK (`predict --fast`): each setting checked over repeated calls
  against the default kernels, then all timed interleaved in one run; the ratio per setting.
- `make_twin()`: the float CRNN of the default preset, untrained, converted as `ser-bnn export`
  converts (same front end and statistics input): a CRNN to compare with when no trained one exists.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn.runtime.interpreter import LceInterpreter

SHIPPED_SETTINGS = {  # name -> LceInterpreter options; the `ser-bnn predict` flag that selects it
    "default kernels (predict)": {},
    "XNNPACK (predict --fast)": {"use_xnnpack": True},
}
X86_VECTOR = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile")  # fmt: skip
ARM_VECTOR = ("asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2")


def machine() -> dict[str, Any]:
    """CPU model, vector extensions, cores, load averages and the architecture."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware") and model in ("", platform.machine(), platform.processor()):
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    vector = [f for f in (*X86_VECTOR, *ARM_VECTOR) if f in flags]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu": model or "unknown", "arch": platform.machine(), "vector_extensions": vector,
            "cores": os.cpu_count() or 1, "load_average": [round(x, 2) for x in load]}  # fmt: skip


def describe_machine(m: dict[str, Any]) -> str:
    vec = " ".join(m["vector_extensions"]) or "none reported"
    load = " / ".join(f"{x:.1f}" for x in m["load_average"])
    return (f"{m['cpu']} ({m['arch']}, {m['cores']} cores; vector extensions: {vec}); "
            f"load average 1/5/15 min {load}")


def inputs_for(interp: LceInterpreter, window: np.ndarray) -> list[np.ndarray]:
    """The window for the signal input, zeros (default statistics, count 0) for any other input."""
    return [np.asarray(window, np.float32).reshape(s) if int(np.prod(s)) == window.size
            else np.zeros(s, np.float32) for s in interp.input_shapes]  # fmt: skip


def worst_diff(data: bytes, opts: dict[str, Any], windows: np.ndarray, rounds: int = 2) -> float:
    """Max |output - default kernels' output| over `rounds` passes over `windows` with ONE interpreter,
    every output compared (a kernel that is only right on its first call fails)."""
    ref = LceInterpreter(data)
    want = [ref.invoke(inputs_for(ref, w)) for w in windows]
    interp = LceInterpreter(data, **opts)
    worst = 0.0
    for _ in range(rounds):
        for w, r in zip(windows, want, strict=True):
            got = interp.invoke(inputs_for(interp, w))
            worst = max(worst, *(float(np.abs(g - x).max()) for g, x in zip(got, r, strict=True)))
    return worst


def time_interleaved(calls: dict[Any, Callable[[], Any]], runs: int, warmup: int) -> dict[Any, dict]:
    """Wall time (median, min, p90) and the calling thread's CPU time (median, min) of each call, in
    ms; the calls run round-robin `runs` times after `warmup`. At 1 interpreter thread the work runs
    on the calling thread, so its CPU time hardly depends on what else the machine runs; wall time
    does."""
    for _ in range(warmup):
        for fn in calls.values():
            fn()
    wall: dict[Any, list[float]] = {k: [] for k in calls}
    cpu: dict[Any, list[float]] = {k: [] for k in calls}
    for _ in range(runs):
        for k, fn in calls.items():
            c0, t0 = time.thread_time(), time.perf_counter()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.thread_time() - c0)
    return {k: {"median_ms": 1e3 * statistics.median(v), "min_ms": 1e3 * min(v),
                "p90_ms": 1e3 * float(np.quantile(v, 0.9)), "cpu_median_ms": 1e3 * statistics.median(cpu[k]),
                "cpu_min_ms": 1e3 * min(cpu[k])} for k, v in wall.items()}  # fmt: skip


def shipped_headline(
    models: dict[str, bytes], windows: np.ndarray, *, runs: int, warmup: int = 3, tolerance: float = 1e-5
) -> dict[str, Any]:
    """Every model x `SHIPPED_SETTINGS` at 1 thread: checked, then timed interleaved in one run."""
    calls, checks = {}, {}
    for name, data in models.items():
        for setting, opts in SHIPPED_SETTINGS.items():
            checks[(name, setting)] = worst_diff(data, opts, windows) if opts else 0.0
            it = LceInterpreter(data, num_threads=1, **opts)
            x = inputs_for(it, windows[0])
            calls[(name, setting)] = lambda it=it, x=x: it.invoke(x)
    before = machine()
    timed = time_interleaved(calls, runs, warmup)
    out: dict[str, Any] = {"machine": before, "load_after": machine()["load_average"], "runs": runs,
                           "threads": 1, "rows": [], "ratios": {}, "cpu_ratios": {}}  # fmt: skip
    for (name, setting), t in timed.items():
        ok = checks[(name, setting)] <= tolerance
        out["rows"].append({"model": name, "setting": setting, "size_bytes": len(models[name]),
                            "max_abs_diff_vs_default": checks[(name, setting)], "correct": ok,
                            **t})  # fmt: skip
    names = list(models)
    if len(names) == 2:
        for setting in SHIPPED_SETTINGS:
            a, b = (timed[(n, setting)] for n in names)
            out["ratios"][setting] = a["median_ms"] / b["median_ms"]
            out["cpu_ratios"][setting] = a["cpu_median_ms"] / b["cpu_median_ms"]
    return out


def format_shipped(h: dict[str, Any]) -> list[str]:
    lines = [f"HEADLINE: the shipped graphs, one 3 s window, {h['threads']} thread, median of {h['runs']} "
             "calls, all timed interleaved in this run (wall time, and the thread's CPU time, which a "
             "busy machine inflates less)",
             f"  machine: {describe_machine(h['machine'])}"]  # fmt: skip
    for r in h["rows"]:
        flag = "" if r["correct"] else f"  WRONG OUTPUTS (max |dp| {r['max_abs_diff_vs_default']:.1e})"
        wall = f"wall {r['median_ms']:8.2f} ms (min {r['min_ms']:.2f}, p90 {r['p90_ms']:.2f})"
        lines.append(f"  {r['model']:<8} {r['setting']:<27} {wall}; CPU {r['cpu_median_ms']:8.2f} ms{flag}")
    names = list(dict.fromkeys(r["model"] for r in h["rows"]))
    for setting, ratio in h["ratios"].items():
        lines.append(f"  ratio {names[0]} / {names[1]}, {setting}: {ratio:.2f} (wall), "
                     f"{h['cpu_ratios'][setting]:.2f} (CPU time)")  # fmt: skip
    lines.append("  load average after: " + " / ".join(f"{x:.1f}" for x in h["load_after"]))
    if platform.machine() not in ("aarch64", "arm64"):
        lines.append("  x86: LCE's binary kernels here are its portable reference code (arm64 has optimized "
                     "ones); a phone's ratio differs")
    return lines


def make_twin(bcrnn: Path, target: Path) -> Path:
    """Convert the untrained float CRNN of the default preset, with the front end and statistics of
    `bcrnn`'s sidecar, to `target` (kept if it exists). Needs the `train` extra (TensorFlow)."""
    if target.is_file():
        return target
    import dataclasses

    from ser_bnn.atomic import atomic_write_bytes
    from ser_bnn.config import FeatureConfig
    from ser_bnn.export.conversion import convert, wrap_model
    from ser_bnn.nn.models import build_model
    from ser_bnn.recipes import preset
    from ser_bnn.runtime.sidecar import read_description

    desc, _ = read_description(bcrnn, bcrnn.read_bytes())
    features = FeatureConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in desc["features"].items()}
    )
    cfg = preset("default", "crnn")
    labels = tuple(desc["labels"])
    cfg = cfg.replace(features=features, labels=labels,
                      model=dataclasses.replace(cfg.model, name="crnn", n_classes=len(labels)))  # fmt: skip
    model = build_model(cfg.validate(), batch_size=1)
    atomic_write_bytes(target, convert(wrap_model(model, features, "waveform")))
    return target
