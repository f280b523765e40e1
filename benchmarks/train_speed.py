"""Training-step throughput of the BCRNN / CRNN: float32, XLA and mixed bfloat16, and batch sizes.

    python benchmarks/train_speed.py                       # both models, all three modes
    python benchmarks/train_speed.py --models bcrnn --modes fp32,bf16 --steps 5
    python benchmarks/train_speed.py --models bcrnn --modes fp32 --batch 16,32   # per-segment cost
    python benchmarks/train_speed.py --preset paper        # the paper's all-binary 128-unit shape
    python benchmarks/train_speed.py --modes fp32,fp32-unrolled   # LSTM loops unrolled in training

Each (model, mode) runs in its own process (the mixed-precision policy is global): one traced
step, then `--steps` timed Adam steps on a random batch of `--batch` 3 s segments. Prints seconds
per step, milliseconds per training segment and the arithmetic rate that is: GFLOP/s = 6 x the
model's multiply-accumulates per segment (`ser_bnn.summary`; forward 2 FLOP a MAC, backward twice
the forward; binary products are float products while training) x batch / s per step. As a
ceiling, the last row is the float32 rate of one large matrix product (`tf.matmul`, 2048 x 2560 by
2560 x 1024: about the LSTM input projection of a batch) on the same threads. Training uses the
fastest mode that trains correctly (float32 on the machines measured: see the README's method
section). The model is the `--preset`'s (default: the shipped recipe's shape).
"""

from __future__ import annotations

import argparse
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
    s = {"title": title, "steps": steps, **s}
    md = f"{title}\n\n{step_profile.markdown(s)}\n"
    (Path(log_dir) / "summary.json").write_text(json.dumps(s, indent=1) + "\n")
    (Path(log_dir) / "summary.md").write_text(md)
    print(md, flush=True)


def one(model_name: str, mode: str, batch: int, steps: int, preset_name: str, profile: str = "") -> None:
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.lstm import BinaryLSTM
    from ser_bnn.models import build_model
    from ser_bnn.recipes import preset
    from ser_bnn.summary import model_summary

    if model_name == "matmul":
        gemm(steps)
        return

    if mode == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = build_model(preset(preset_name, model_name))
    for layer in model.layers:
        if isinstance(layer, BinaryLSTM):
            layer.unroll = mode == "fp32-unrolled"
            layer.jit = {"fp32-jitbody": "body", "fp32-jitloop": "loop"}.get(mode, "")
            layer.matmul_proj = mode == "fp32-mm"
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
    gflops = 6 * model_summary(model)["macs"] * batch / per / 1e9
    print(f"| {model_name} | {mode} | {batch} | {trace:.1f} | {per:.2f} | {1000 * per / batch:.0f} | "
          f"{gflops:.0f} | {np.isfinite(loss)} |", flush=True)  # fmt: skip


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
    rate = 2 * 2048 * 2560 * 1024 / per / 1e9
    print(f"| matmul (ceiling) | fp32 | - | - | {per:.3f} | - | {rate:.0f} | True |", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="bcrnn,crnn")
    p.add_argument("--modes", default="fp32,xla,bf16")
    p.add_argument("--batch", default="16", help="batch sizes, comma-separated")
    p.add_argument("--preset", default="default", choices=("default", "paper"))
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--no-ceiling", action="store_true", help="skip the large-matmul row")
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
    print(f"preset {args.preset}")
    print("| model | mode | batch | trace s | s/step | ms/segment | GFLOP/s | finite loss |")
    print("|---|---|---|---|---|---|---|---|")
    for m in args.models.split(","):
        for mode in args.modes.split(","):
            for b in batches:
                cmd = [sys.executable, __file__, "--one", m, mode, "--batch", str(b), "--preset", args.preset]
                r = subprocess.run(cmd + ["--steps", str(args.steps)], capture_output=True, text=True)
                out = [line for line in r.stdout.splitlines() if line.startswith("|")]
                err = r.stderr.strip().splitlines()[-1:]
                print(out[0] if out else f"| {m} | {mode} | {b} | failed: {err} |")
    if not args.no_ceiling:
        cmd = [sys.executable, __file__, "--one", "matmul", "fp32", "--steps", str(args.steps)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        print(next((x for x in r.stdout.splitlines() if x.startswith("|")), "| matmul | failed |"))
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "train_speed.py"))
