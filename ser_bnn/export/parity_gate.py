"""Parity gate: the flatbuffer must compute what the Keras model computes.

The flatbuffer (LCE's interpreter, with the default kernels that the Android runtime uses, and
with XNNPACK as `ser-bnn predict --fast` does) and the Keras model are run on every 3 s window
of the run's held-out test utterances and on edge inputs (digital silence, full-scale noise, a
sine, a short tone then zero padding). Top-1 must agree on every window and
max |p_tflite - p_keras| must stay <= `tolerance` (see `DEFAULT_TOLERANCE`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.errors import ExportError, SerBnnError
from ser_bnn.export.conversion import Run
from ser_bnn.interpreter import LceInterpreter

# Largest |p_tflite - p_keras| accepted on any window (probabilities in [0, 1]). Measured on a
# paper-size BCRNN (Emo-DB, 231 held-out utterances = 315 windows + 4 edge inputs):
# - rounding noise: the binary parts are exact (sums of +-1 in float32, scales applied after);
#   the float front end, LSTM gates and softmax differ by rounding: max |dp| 3.6e-7 to 7.2e-7;
#   the trained float CRNN twin, whose float products sum 2560 terms, reaches 1.2e-4;
# - the front end's features differ by <= 1e-3 (mean 3.7e-7); a binarized feature flips sign
#   only if it lies that close to 0: 0 flips among 2.6 M non-zero features; flipping one
#   near-zero feature on purpose moves the output by 1.5e-6 (median) to 3.3e-4 (max, 60 trials);
# - real defects are far larger: LCE's indirect BGEMM kernel inside the LSTM loops gives
#   1.3e-2 to 7.9e-2 (and wrong top-1), a perturbed or corrupted classifier > 5e-3.
# 1e-3 passes rounding noise (float models too) and the odd sign flip, and refuses every defect
# above; top-1 must agree on every window regardless.
DEFAULT_TOLERANCE = 1e-3

INTERPRETER_SETTINGS: dict[str, dict[str, Any]] = {
    "lce_default": {},
    "lce_xnnpack": {"use_xnnpack": True},
}

Log = Callable[[str], None]


def quiet(_: str) -> None:
    """The default `log`: say nothing."""


def edge_inputs(fc: FeatureConfig) -> dict[str, np.ndarray]:
    """Windows that are not speech: digital silence, full-scale noise, a sine, a tone then zeros."""
    n, sr = fc.segment_samples, fc.sample_rate
    t = np.arange(n) / sr
    rng = np.random.default_rng(1234)
    short = np.zeros(n, np.float32)
    short[: sr // 2] = 0.3 * np.sin(2 * np.pi * 220.0 * t[: sr // 2])
    return {
        "silence": np.zeros(n, np.float32),
        "noise_full_scale": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "sine_440hz": (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32),
        "tone_0.5s_then_zeros": short,
    }


def heldout_windows(
    run: Run, data_dir: str | Path | None, max_utterances: int | None = None, log: Log = quiet
) -> tuple[np.ndarray, list[str]]:
    """All 3 s windows of the run's test utterances (split.json) from the corpus on disk."""
    from ser_bnn.audio import load_audio
    from ser_bnn.corpora import load_corpus
    from ser_bnn.segments import segment_waveform

    ids = list(run.split.get("test", []))
    if not ids:
        raise SerBnnError(f"{run.run_dir}/split.json lists no test utterances")
    if max_utterances:
        ids = ids[:max_utterances]
    corpus = load_corpus(run.cfg.dataset, data_dir, **run.cfg.corpus_options)  # as training read it
    by_id = {u.id: u for u in corpus.utterances}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SerBnnError(
            f"{len(missing)} test utterances of the run are not in the corpus at {corpus.root} "
            f"(e.g. {missing[0]}): pass --data-dir"
        )
    windows, owners = [], []
    for uid in ids:
        w = segment_waveform(load_audio(by_id[uid].path, run.cfg.features.sample_rate), run.cfg.features)
        windows.append(w)
        owners += [uid] * len(w)
    log(f"parity data: {len(windows)} held-out utterances, {len(owners)} windows")
    return np.concatenate(windows), owners


def keras_predict(keras_model: Any, x: np.ndarray) -> np.ndarray:
    """Keras outputs of a batch-1 model, one example at a time."""
    import tensorflow as tf

    fn = tf.function(lambda t: keras_model(t, training=False))
    return np.concatenate([fn(tf.constant(e[None])).numpy() for e in x]).astype(np.float64)


def parity(
    flatbuffer: bytes, keras_model: Any, inputs: dict[str, np.ndarray], tolerance: float, log: Log = quiet
) -> dict[str, Any]:
    """Compare flatbuffer and Keras outputs per input group; raise ExportError if the gate fails."""
    names = list(inputs)
    x = np.concatenate([inputs[k] for k in names])
    group = np.concatenate([[i] * len(inputs[k]) for i, k in enumerate(names)]).astype(int)
    t0 = time.perf_counter()
    ref = keras_predict(keras_model, x)
    log(f"parity: Keras on {len(x)} windows in {time.perf_counter() - t0:.1f} s")
    report: dict[str, Any] = {
        "tolerance": tolerance,
        "windows": int(len(x)),
        "windows_per_group": {k: int(len(inputs[k])) for k in names},
        "settings": {},
    }
    failures = []
    for setting, opts in INTERPRETER_SETTINGS.items():
        t0 = time.perf_counter()
        got = LceInterpreter(flatbuffer, **opts).predict(x).astype(np.float64)
        diff = np.abs(got - ref).max(axis=1)
        agree = got.argmax(axis=1) == ref.argmax(axis=1)
        r = {
            "top1_agreement": float(agree.mean()),
            "top1_disagreements": int((~agree).sum()),
            "max_abs_diff": float(diff.max()),
            "mean_abs_diff": float(np.abs(got - ref).mean()),
            "p99_abs_diff": float(np.quantile(diff, 0.99)),
            "exact_windows": int((diff == 0).sum()),
            "per_group": {
                k: {
                    "max_abs_diff": float(diff[group == i].max()),
                    "top1_agreement": float(agree[group == i].mean()),
                }
                for i, k in enumerate(names)
            },
            "seconds": round(time.perf_counter() - t0, 2),
        }
        report["settings"][setting] = r
        log(
            f"parity {setting}: top-1 {100 * r['top1_agreement']:.2f} %, max |dp| {r['max_abs_diff']:.2e} "
            f"({r['seconds']:.1f} s)"
        )
        if r["top1_disagreements"] or r["max_abs_diff"] > tolerance:
            worst = names[int(group[int(diff.argmax())])]
            failures.append(
                f"{setting}: top-1 agreement {100 * r['top1_agreement']:.2f} %, "
                f"max |dp| {r['max_abs_diff']:.3g} > {tolerance:g} (worst on {worst})"
                if r["max_abs_diff"] > tolerance
                else f"{setting}: top-1 agreement {100 * r['top1_agreement']:.2f} % "
                f"({r['top1_disagreements']} windows differ)"
            )
    report["passed"] = not failures
    if failures:
        raise ExportError("parity gate failed, nothing written: " + "; ".join(failures))
    return report
