"""Training-step throughput of the BCRNN / CRNN: training paths, XLA, bfloat16, batch sizes, threads.

    python benchmarks/train_speed.py --models bcrnn --modes fp32-conv,fp32   # before / after
    python benchmarks/train_speed.py --models bcrnn --modes fp32 --batch 16,32   # per-segment cost
    python benchmarks/train_speed.py --models bcrnn --modes fp32 --jobs 2   # two runs at 1 thread each
    python benchmarks/train_speed.py --models bcrnn --modes fp32 --profile DIR   # time per model part
    python benchmarks/train_speed.py --preset paper        # the paper's all-binary 128-unit shape

Modes: `fp32` is what `train.py` runs (`ser_bnn.nn.lstm.set_training_fast_paths`: the LSTM input
projection as a MatMul), `fp32-conv` the model as built for export (the 1x1 QuantConv2D: the
training path before 2026-12-06), `fp32-unrolled` with the LSTM loops unrolled, `xla` the whole
step under `jit_compile`, `bf16` mixed bfloat16. Each (model, mode, batch) runs in its own process
(the mixed-precision policy is global): one traced step, then `--steps` timed Adam steps on a
random batch of `--batch` 3 s segments. Prints seconds per step, milliseconds per training segment
and the arithmetic rate: GMAC/s = 3 x the model's multiply-accumulates per segment
(`ser_bnn.nn.summary`; the backward pass costs twice the forward; binary products are float products
while training) x batch / s per step, and its share of the ceiling: the float32 rate of one large
matrix product (`tf.matmul`, 2048 x 2560 by 2560 x 1024: about the LSTM input projection of a
batch), measured first on the same threads. `--jobs J` runs J copies of each row at once, each
with cores / J TensorFlow threads (as `protocol.py --jobs` trains folds): s/step is their median,
ms/segment and GMAC/s are of all copies together. `--profile DIR` traces the timed steps of the
first model and mode with the TensorFlow profiler and sums the time per part of the model
(`step_profile.py`). The model is the `--preset`'s (default: the shipped recipe's shape).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

import ser_bnn  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)


def write_profile(log_dir: str, steps: int, per: float, batch: int, title: str) -> None:
    """Summarize the trace in `log_dir` (`step_profile`), print it, write summary.json/.md beside it."""
    import json
    from pathlib import Path

    import step_profile

    s = step_profile.summary(Path(log_dir), steps, per, step_profile.input_pipeline_ms(400, batch))
    s = {"title": title, "steps": steps, "machine": step_profile.machine(), **s}
    md = f"{title}\n\n{step_profile.markdown(s)}\n"
    (Path(log_dir) / "summary.json").write_text(json.dumps(s, indent=1) + "\n")
    (Path(log_dir) / "summary.md").write_text(md)
    print(md, flush=True)


def one(model_name: str, mode: str, batch: int, steps: int, preset_name: str, profile: str = "") -> None:
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.nn.lstm import BinaryLSTM, set_training_fast_paths
    from ser_bnn.nn.models import build_model
    from ser_bnn.nn.summary import model_summary
    from ser_bnn.recipes import preset

    if model_name == "matmul":
        gemm(steps)
        return

    if mode == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = build_model(preset(preset_name, model_name))
    set_training_fast_paths(model, mode != "fp32-conv")
    for layer in model.layers:
        if isinstance(layer, BinaryLSTM):
            layer.unroll = mode == "fp32-unrolled"
    opt = keras.optimizers.Adam(1e-3)

    @tf.function(jit_compile=mode == "xla", autograph=False)
    def step(x, y):  # noqa: ANN001, ANN202
        with tf.GradientTape() as tape:
            p = tf.cast(model(x, training=True), tf.float32)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, p))
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        return loss

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, 300, 40)).astype(np.float32))
    y = tf.constant(rng.integers(0, 7, batch))
    t0 = time.perf_counter()
    step(x, y).numpy()
    trace = time.perf_counter() - t0
    if profile:
        step(x, y).numpy()
        tf.profiler.experimental.start(profile)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = float(step(x, y))
    per = (time.perf_counter() - t0) / steps
    if profile:
        tf.profiler.experimental.stop()
        write_profile(profile, steps, per, batch, f"{model_name} {mode} batch {batch}")
    gmacs = 3 * model_summary(model)["macs"] * batch / per / 1e9
    print(f"ROW {trace:.1f} {per:.4f} {gmacs:.2f} {np.isfinite(loss)}", flush=True)


def gemm(steps: int) -> None:
    """float32 rate of one large matrix product: the ceiling for the rows above."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.normal(size=(2048, 2560)).astype(np.float32))
    b = tf.constant(rng.normal(size=(2560, 1024)).astype(np.float32))
    mm = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    mm().numpy()
    n = 20 * steps
    t0 = time.perf_counter()
    for _ in range(n):
        mm().numpy()
    per = (time.perf_counter() - t0) / n
    print(f"ROW 0 {per:.4f} {2048 * 2560 * 1024 / per / 1e9:.2f} True", flush=True)


def run_row(args: argparse.Namespace, model: str, mode: str, batch: int, jobs: int) -> dict | str:
    """Run `jobs` copies of one (model, mode, batch) at once; their figures, or the error."""
    cmd = [sys.executable, __file__, "--one", model, mode, "--batch", str(batch), "--preset", args.preset]
    cmd += ["--steps", str(args.steps)]
    env = dict(os.environ)
    threads = args.threads or (max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 0)
    if threads:
        n = str(threads)
        env.update(TF_NUM_INTRAOP_THREADS=n, TF_NUM_INTEROP_THREADS=n, OMP_NUM_THREADS=n)
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(jobs)]  # fmt: skip
    rows = []
    for proc in procs:
        out, err = proc.communicate()
        row = [line.split()[1:] for line in out.splitlines() if line.startswith("ROW ")]
        if not row:
            return f"failed: {err.strip().splitlines()[-1:]}"
        rows.append(row[0])
    per = [float(r[1]) for r in rows]
    ms_segment = 1000 / sum(batch / p for p in per) if batch else 0.0  # the ceiling row has no batch
    return {"trace": float(np.median([float(r[0]) for r in rows])), "per": float(np.median(per)),
            "ms_segment": ms_segment, "gmacs": sum(float(r[2]) for r in rows),
            "finite": all(r[3] == "True" for r in rows)}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="bcrnn,crnn")
    p.add_argument("--modes", default="fp32,xla,bf16")
    p.add_argument("--batch", default="16", help="batch sizes, comma-separated")
    p.add_argument("--preset", default="default", choices=("default", "paper"))
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--no-ceiling", action="store_true", help="skip the large-matmul row")
    p.add_argument("--jobs", type=int, default=1, help="copies of each row run at once (default 1)")
    p.add_argument(
        "--threads", type=int, default=0, help="TensorFlow threads per copy (default: cores / jobs)"
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        default="",
        help="profile the --steps timed steps of the first model and mode into DIR (TensorFlow trace) "
        "and print/write the time per part of the model (summary.json, summary.md in DIR)",
    )
    p.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        one(args.one[0], args.one[1], int(args.batch), args.steps, args.preset, args.profile)
        return 0
    if args.profile:
        m, mode, b = args.models.split(",")[0], args.modes.split(",")[0], args.batch.split(",")[0]
        one(m, mode, int(b), args.steps, args.preset, args.profile)
        return 0
    try:
        batches = [int(b) for b in args.batch.split(",")]
    except ValueError:
        sys.exit(f"train_speed.py: error: --batch needs comma-separated integers, got {args.batch!r}")
    if args.jobs < 1 or args.threads < 0:
        sys.exit("train_speed.py: error: --jobs needs a positive number and --threads a non-negative one")
    ceiling = None
    if not args.no_ceiling:
        c = run_row(args, "matmul", "fp32", 0, 1)
        ceiling = c["gmacs"] if isinstance(c, dict) else None
    per_job = args.threads or (max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else "default")
    print(f"preset {args.preset}, {args.jobs} job(s) at once, TensorFlow threads per job: {per_job}")
    print("| model | mode | batch | trace s | s/step | ms/segment | GMAC/s | % of ceiling | finite loss |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in args.models.split(","):
        for mode in args.modes.split(","):
            for b in batches:
                r = run_row(args, m, mode, b, args.jobs)
                if isinstance(r, str):
                    print(f"| {m} | {mode} | {b} | {r} |", flush=True)
                    continue
                share = f"{100 * r['gmacs'] / ceiling:.0f}" if ceiling else "-"
                print(f"| {m} | {mode} | {b} | {r['trace']:.1f} | {r['per']:.2f} | {r['ms_segment']:.0f} | "
                      f"{r['gmacs']:.1f} | {share} | {r['finite']} |", flush=True)  # fmt: skip
    if ceiling:
        print(f"| matmul (ceiling) | fp32 | - | - | - | - | {ceiling:.1f} | 100 | True |")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "train_speed.py"))
