"""Where the parity gate's sign flips come from (issue 27): the binary-layer inputs of a run's exported
flatbuffer against Keras, on every held-out test window, with every statistics tensor the gate uses.

    python benchmarks/flip_origins.py RUN_DIR MODEL.tflite [--data-dir DIR] [--json OUT]

MODEL.tflite is the run's `ser-bnn export` output. For each binary input (`ser_bnn.export.flips`:
the inputs of the main graph's LceQuantize ops, matched to the Keras tensors) it reports the largest
|x_tfl - x_keras| in units of u * max|x| (u = 2^-24; the gate's bound is `ROUNDING_ULPS` of them), the
values that are exactly 0 on either side, and each flipped sign with its place: for the LSTM input,
the step, frequency bin and conv channel, whether both frames of the step hold signal (padding is
all-zero frames), how far it is from the last step that does, and the pooled conv output and
BatchNorm output there. Writes a summary JSON (default: benchmarks/results/flip_origins.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import ser_bnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
from ser_bnn.atomic import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results" / "flip_origins.json"


def _taps(inner: Any) -> Any:
    import tensorflow as tf
    import tf_keras as keras

    names = ("bconv_pool", "bconv_bn", "valid_steps")
    return tf.function(keras.Model(inner.inputs, [inner.get_layer(n).output for n in names]))


def _lstm_flip(flat: int, ref: np.ndarray, got: np.ndarray, feats: np.ndarray, taps: list, filters: int):
    """One flipped LSTM input: where it is and what the Keras graph computed before it."""
    pool, bn, valid = taps
    steps, width = pool.shape[1], pool.shape[2] * pool.shape[3]
    t, c = divmod(int(flat), width)
    b, ch = divmod(c, filters)
    pt = feats.shape[1] // steps
    frames = np.abs(feats[0, pt * t : pt * (t + 1)]).max(axis=-1) > 0
    last = np.nonzero(valid[0])[0]
    return {
        "step": t,
        "bin": b,
        "channel": ch,
        "x_keras": float(ref[flat]),
        "x_tflite": float(got[flat]),
        "pooled_conv": float(pool[0, t, b, ch]),
        "batchnorm": float(bn[0, t, b, ch]),
        "frames_with_signal": int(frames.sum()),
        "steps_before_last_signal_step": int(last.max() - t) if len(last) else None,
    }


def measure(run_dir: Path, model: Path, data_dir: Path | None, log=print) -> dict[str, Any]:  # noqa: ANN001
    from ser_bnn.export.conversion import load_run, wrap_model
    from ser_bnn.export.flips import ROUNDING_ULPS, UNIT_ROUNDOFF, FlipProbe, signs
    from ser_bnn.export.parity_data import heldout_windows, speaker_stats_for_parity
    from ser_bnn.runtime.interpreter import LceInterpreter
    from ser_bnn.runtime.roles import find_roles

    run = load_run(run_dir)
    windows, owners = heldout_windows(run, data_dir, log=log)
    stats = {"default": None, **speaker_stats_for_parity(run, windows, owners, data_dir)}
    keras_model = wrap_model(run.model, run.cfg.features, "waveform")
    interp = LceInterpreter(model.read_bytes())
    shape = tuple(keras_model.inputs[0].shape)
    n_classes, n_mels = run.cfg.model.n_classes, run.cfg.features.n_mels
    roles = find_roles(interp.input_shapes, interp.output_shapes, shape, n_classes, n_mels, str(model))
    probe = FlipProbe(model.read_bytes(), keras_model, roles)
    taps = _taps(probe.inner)
    per: dict[str, dict[str, Any]] = {
        a.layer: {"size": a.size, "max_diff_ulps": 0.0, "keras_zeros": 0, "tflite_zeros": 0, "flips": []}
        for a in probe.anchors
    }
    t0 = time.perf_counter()
    for cond, st in stats.items():
        for i, w in enumerate(windows):
            _, got, feats, ref = probe.tensors("lce_default", {}, w, st)
            for k, a in enumerate(probe.anchors):
                r, g, row = ref[k].astype(np.float64), got[k].astype(np.float64), per[a.layer]
                scale = float(np.abs(r).max())
                ulps = float(np.abs(g - r).max() / (UNIT_ROUNDOFF * scale))
                row["max_diff_ulps"] = max(row["max_diff_ulps"], ulps)
                row["keras_zeros"] += int((r == 0).sum())
                row["tflite_zeros"] += int((g == 0).sum())
                for f in np.nonzero(signs(r) != signs(g))[0]:
                    flip = {"statistics": cond, "window": i, "utterance": owners[i], "scale": scale}
                    if a.layer.startswith("blstm"):
                        t = [np.asarray(x) for x in taps(feats)]
                        flip.update(_lstm_flip(f, r, g, np.asarray(feats), t, run.cfg.model.conv_filters))
                    else:
                        flip.update({"index": int(f), "x_keras": float(r[f]), "x_tflite": float(g[f])})
                    row["flips"].append(flip)
            if i % 100 == 0:
                log(f"{cond} window {i} of {len(windows)} ({time.perf_counter() - t0:.0f} s)")
    return {
        "run": run_dir.name,
        "windows": len(windows),
        "statistics": list(stats),
        "rounding_ulps": ROUNDING_ULPS,
        "binary_inputs": per,
        "note": "inputs after the first are not re-anchored: their flips include the effect of earlier ones",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("model", type=Path, help="the run's exported .tflite")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--json", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if not args.model.is_file():
        p.error(f"{args.model}: file not found")
    res = measure(args.run_dir, args.model, args.data_dir)
    for layer, row in res["binary_inputs"].items():
        print(
            f"{layer}: {len(row['flips'])} flipped signs, max |x_tfl - x_keras| "
            f"{row['max_diff_ulps']:.1f} u max|x|, "
            f"exact zeros Keras {row['keras_zeros']} / flatbuffer {row['tflite_zeros']} "
            f"of {row['size'] * res['windows'] * len(res['statistics']):,}"
        )
    atomic_write_text(args.json, json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "flip_origins.py"))
