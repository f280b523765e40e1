"""Where one training step's time goes: the TensorFlow profiler's trace, summed per part of the model.

Used by `train_speed.py --profile`. The trace (an XSpace protobuf written by
`tf.profiler.experimental`) holds one event per executed op on the host's compute threads, named
`scope/.../name:OpType`. Each op is put in one bucket by its name scope (`BUCKETS`, first match),
and the time of its events is summed per bucket and divided by the number of profiled steps.
These are thread-milliseconds: with two cores the directions and the ops of one step run side by
side, so the buckets add up to more than the wall time of a step (`parallelism` = their sum / wall).
The input pipeline is timed apart (`input_pipeline_ms`): `train.py`'s per-epoch NumPy work and
per-batch slicing on arrays of one epoch's size, CPU milliseconds per step.
"""

from __future__ import annotations

import collections
import re
import time
from pathlib import Path

import numpy as np

# (bucket, pattern on the op name); the first match wins, gradient ops are told apart by scope
BUCKETS = [
    ("input projection bwd", r"^gradient_tape/.*input_proj"),
    ("input projection fwd", r"input_proj"),
    ("recurrent loop bwd: W_h product (conv, STE)", r"^gradient_tape/.*/while.*recurrent_proj"),
    ("recurrent loop bwd: gates, slices, loop", r"^gradient_tape/.*/while"),
    ("recurrent loop fwd: W_h product (conv, sign)", r"/while.*recurrent_proj"),
    ("recurrent loop fwd: gates, slices, loop", r"/while"),
    ("conv block", r"bconv|to_sequence|add_channel"),
    ("LSTM outside the loop (alpha, step inputs, read-out sums)", r"blstm_(fw|bw)"),
    ("read-out + FC + loss", r"blstm_concat|bfc|classifier|dropout|valid_steps|^gradient_tape/"),
    ("optimizer (Adam, weight clip)", r"^Adam|^AssignAdd|ReadVariableOp|^clip|^Identity"),
]
OTHER = "other (gradient sums and STE masks of the latent kernels)"


def bucket_of(name: str) -> str:
    for bucket, pattern in BUCKETS:
        if re.search(pattern, name):
            return bucket
    return OTHER


def read_trace(log_dir: Path) -> tuple[dict[str, float], dict[str, int], dict[str, float]]:
    """(thread-ms per bucket, op count per bucket, thread-ms per op type) summed over the trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(Path(log_dir).glob("plugins/profile/*/*.xplane.pb"))
    if not files:
        raise FileNotFoundError(f"no profiler trace under {log_dir}")
    space = xplane_pb2.XSpace()
    space.ParseFromString(files[-1].read_bytes())
    ms, count, by_type = collections.Counter(), collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for ev in line.events:
                meta = plane.event_metadata[ev.metadata_id]
                if ":" not in meta.name or not meta.display_name:  # executor bookkeeping, not an op
                    continue
                b = bucket_of(meta.name.rsplit(":", 1)[0])
                ms[b] += ev.duration_ps / 1e9
                count[b] += 1
                by_type[meta.display_name] += ev.duration_ps / 1e9
    return dict(ms), dict(count), dict(by_type)


def input_pipeline_ms(n_segments: int, batch: int, seed: int = 0) -> float:
    """Milliseconds per step of `train.py`'s data path on one epoch of `n_segments` segments of
    three speed versions: version draw, shuffle, random gain, class weights, per-batch slicing."""
    from ser_bnn.data.augment import EpochSampler, random_gain

    rng = np.random.default_rng(seed)
    n_utt = n_segments
    versions = []
    for _ in range(3):
        x = rng.normal(size=(n_utt, 300, 40)).astype(np.float32)
        versions.append(type("V", (), {"x": x, "utt": np.arange(n_utt), "ids": list(range(n_utt))})())
    y_utt = rng.integers(0, 7, n_utt).astype(np.int32)
    sampler = EpochSampler(versions, y_utt)
    std = np.ones(40, np.float32)
    t0 = time.process_time()  # CPU time: the NumPy work is single-threaded; robust to a loaded machine
    x_all, utt = sampler.epoch(rng)
    perm = rng.permutation(len(utt))
    x_epoch, y_epoch = x_all[perm], y_utt[utt[perm]]
    x_epoch = random_gain(x_epoch, 6.0, std, rng)
    w = np.ones(7)
    w_epoch = np.array([w[int(c)] for c in y_epoch], np.float32)
    for i in range(0, len(x_epoch), batch):
        _ = x_epoch[i : i + batch], y_epoch[i : i + batch], w_epoch[i : i + batch]
    steps = -(-len(x_epoch) // batch)
    return 1000 * (time.process_time() - t0) / steps


def machine() -> dict:
    """CPU model, cores and the 1-minute load average (the figures depend on both)."""
    import os
    import platform

    cpu = platform.processor() or "unknown"
    try:
        names = [ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}  # fmt: skip


def summary(log_dir: Path, steps: int, wall_s: float, pipeline_ms: float) -> dict:
    """The per-step table as a dict (thread-ms, share of the summed op time, ops per step)."""
    ms, count, by_type = read_trace(log_dir)
    total = sum(ms.values())
    order = [b for b, _ in BUCKETS] + [OTHER]
    rows = [
        {
            "part": b,
            "thread_ms_per_step": round(ms.get(b, 0.0) / steps, 1),
            "share_pct": round(100 * ms.get(b, 0.0) / max(total, 1e-9), 1),
            "ops_per_step": round(count.get(b, 0) / steps),
        }
        for b in order
    ]
    top = sorted(by_type.items(), key=lambda kv: -kv[1])[:12]
    return {
        "wall_s_per_step": round(wall_s, 3),
        "thread_ms_per_step": round(total / steps, 1),
        "parallelism": round(total / steps / 1000 / wall_s, 2),
        "input_pipeline_ms_per_step": round(pipeline_ms, 2),
        "parts": rows,
        "top_op_types_thread_ms_per_step": {k: round(v / steps, 1) for k, v in top},
    }


def markdown(s: dict) -> str:
    lines = [
        f"wall {s['wall_s_per_step']:.3f} s/step, {s['thread_ms_per_step']:.0f} thread-ms of ops per step "
        f"(parallelism {s['parallelism']:.2f}); input pipeline {s['input_pipeline_ms_per_step']:.1f} ms/step",
        "",
        "| part | thread-ms / step | share % | ops / step |",
        "|---|---|---|---|",
    ]
    for r in s["parts"]:
        lines.append(
            f"| {r['part']} | {r['thread_ms_per_step']:.0f} | {r['share_pct']:.1f} | {r['ops_per_step']} |"
        )
    lines += ["", "| op type | thread-ms / step |", "|---|---|"]
    lines += [f"| {k} | {v:.0f} |" for k, v in s["top_op_types_thread_ms_per_step"].items()]
    return "\n".join(lines)
