"""Size, compute, conversion and speed of the paper-size BCRNN and CRNN (no training data needed).

    python benchmarks/model_report.py                 # both models, paper sizes, 7 classes
    python benchmarks/model_report.py --models bcrnn --json report.json

For each model: parameter counts (binary / float), MACs per 3 s segment and the binarized
share, the bit-packed size estimate, Keras training-step time at batch 40 (a few Adam steps
on random inputs, which also moves weights and BatchNorm statistics off their initial
values), then LCE conversion at batch 1: flatbuffer size, op types (every binary matmul must be
an LceBconv2d), LCE-interpreter vs Keras max |diff| and interpreter latency per segment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import ser_bnn  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)


def train_step_seconds(model, n_classes: int, batch: int, steps: int, seed: int) -> list[float]:  # noqa: ANN001
    import tensorflow as tf
    import tf_keras as keras

    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(batch, *model.input_shape[1:])).astype(np.float32))
    y = tf.constant(rng.integers(0, n_classes, size=batch))
    opt = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(autograph=False)
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(
            zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights, strict=True)
        )
        return loss

    times = []
    for _ in range(steps + 1):  # the first call traces
        t = time.perf_counter()
        float(step())
        times.append(time.perf_counter() - t)
    return times


def interpreter_check(fb: bytes, model, x: np.ndarray, **options: bool) -> tuple[float, float]:  # noqa: ANN001
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    interp = Interpreter(fb, num_threads=1, **options)
    got, times = [], []
    for i in range(len(x)):
        t = time.perf_counter()
        got.append(interp.predict(x[i : i + 1]))
        times.append(time.perf_counter() - t)
    want = model(x, training=False).numpy()
    return float(np.abs(np.concatenate(got) - want).max()), float(np.median(times[1:]))


def report(name: str, args: argparse.Namespace) -> dict:
    import larq_compute_engine as lce
    import tf_keras as keras

    from ser_bnn.config import Config, ModelConfig
    from ser_bnn.nn.models import build_model, rebuild_for_export
    from ser_bnn.nn.summary import format_summary, model_summary
    from ser_bnn.runtime.flatbuffer import inspect_tflite

    cfg = Config(model=ModelConfig(name=name, n_classes=args.classes))
    keras.utils.set_random_seed(args.seed)
    model = build_model(cfg)
    summary = model_summary(model, cfg)
    print(format_summary(summary), flush=True)
    times = train_step_seconds(model, args.classes, args.batch, args.steps, args.seed)
    step = float(np.median(times[1:]))
    print(f"training step, batch {args.batch}: first (traces) {times[0]:.1f} s, then median {step:.2f} s")

    t = time.perf_counter()
    fb = lce.convert_keras_model(rebuild_for_export(model, cfg, batch_size=1))
    convert_s = time.perf_counter() - t
    info = inspect_tflite(fb)
    x = (
        np.random.default_rng(args.seed + 1)
        .normal(size=(args.segments, *model.input_shape[1:]))
        .astype(np.float32)
    )
    checks = {}
    for label, opts in {
        "default": {},
        "xnnpack": {"use_xnnpack": True},
        "indirect_bgemm+xnnpack": {"use_indirect_bgemm": True, "use_xnnpack": True},
    }.items():
        diff, latency = interpreter_check(fb, model, x, **opts)
        checks[label] = {"max_abs_diff": diff, "latency_s": latency}
    if args.out_dir:
        out = Path(args.out_dir) / f"{name}.tflite"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(fb)
    print(f"LCE conversion: {convert_s:.1f} s, flatbuffer {info['size_bytes']:,} bytes")
    print(f"  weight bytes by dtype: {info['weight_bytes']}")
    print(f"  bit-packed bconv filters: {info['bconv_filter_bytes']:,} bytes")
    print(f"  ops (all subgraphs): {dict(sorted(info['ops'].items()))}")
    for s in info["subgraphs"]:
        print(f"    {s['name']}: {dict(sorted(s['ops'].items()))}")
    for label, c in checks.items():
        diff, ms = c["max_abs_diff"], 1e3 * c["latency_s"]
        print(f"  interpreter [{label}]: max |diff| vs Keras {diff:.3g}, {ms:.1f} ms/segment")
    print(flush=True)
    return {
        "summary": {k: v for k, v in summary.items() if k != "per_layer"},
        "train_step_s": step,
        "train_first_step_s": times[0],
        "convert_s": convert_s,
        "flatbuffer": {k: v for k, v in info.items() if k != "subgraphs"},
        "subgraph_ops": {s["name"]: dict(s["ops"]) for s in info["subgraphs"]},
        "interpreter": checks,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["bcrnn", "crnn"], choices=["bcrnn", "crnn"])
    p.add_argument("--classes", type=int, default=7)
    p.add_argument("--batch", type=int, default=40, help="training batch (paper: 40)")
    p.add_argument("--steps", type=int, default=3, help="timed training steps after the traced one")
    p.add_argument("--segments", type=int, default=5, help="random segments for interpreter parity")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the numbers here")
    p.add_argument("--out-dir", help="also write <model>.tflite here")
    args = p.parse_args(argv)
    results = {name: report(name, args) for name in args.models}
    if args.json:
        from ser_bnn.atomic import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps(results, indent=2, default=dict) + "\n")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "model_report.py"))
