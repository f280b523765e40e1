"""File-mode parity data for the Android core: what `ser-bnn predict` decides for a set of small WAVs.

    python tests/android_predict_parity.py OUT_DIR

writes OUT_DIR/*.wav and OUT_DIR/predict_parity.json. tests/test_android_core.py calls `write_parity`
into a temporary directory and the Java test `PredictParityTest` (android_demo/core) classifies the same
WAVs with `WavStream` + `UtteranceClassifier` and must reach the same decisions.

The decisions come from `ser_bnn.runtime.predict.predict_file` itself, the CLI's code path: reading and
resampling (`load_audio`), windowing, dropping all-zero windows, refusing files that are too short
or all zeros, max-pooling, renormalised scores and notes. Only the network is a stand-in, a
deterministic function that Java recomputes: softmax of `[50 * mean, 10 * rms, 3 * peak, 1] @ W` per
window (float64, then float32), with W from numpy's default_rng(0), written into the JSON.

The WAVs (16-bit PCM, so both sides read identical samples) cover: digital silence inside a long
file and in its padded tail, overlapping windows with a silent first window, a file under 1 s (note),
all-zero files at 16 kHz and 8 kHz, stereo whose channels cancel to zero, files shorter than 0.1 s
(with and without signal, one at 44.1 kHz), a file exactly 0.1 s long, and a 22.05 kHz file (resampled
by soxr in Python and by the Java table resampler: close, not identical, so compared with a tolerance).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ser_bnn.config import FeatureConfig  # noqa: E402
from ser_bnn.errors import AudioError  # noqa: E402
from ser_bnn.runtime.predict import DeployedModel, predict_file  # noqa: E402

LABELS = ["anger", "boredom", "neutral", "sadness"]
FEATURE_SCALES = [50.0, 10.0, 3.0]
RATE = 16000


def stand_in_weights() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((4, len(LABELS)))


class StandInInterpreter:
    """What `predict_file` needs of an interpreter: predict(windows [n, samples]) -> [n, classes]."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def predict(self, windows: np.ndarray) -> np.ndarray:
        w = windows.astype(np.float64)
        feats = np.stack(
            [
                FEATURE_SCALES[0] * w.mean(axis=1),
                FEATURE_SCALES[1] * np.sqrt(np.mean(w * w, axis=1)),
                FEATURE_SCALES[2] * np.abs(w).max(axis=1),
                np.ones(len(w)),
            ],
            axis=1,
        )
        logits = feats @ self.weights
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _signal(
    rng: np.random.Generator, n: int, rate: int = RATE, amp: float = 0.3, dc: float = 0.0
) -> np.ndarray:
    """Noise plus a gliding tone (level `amp`, offset `dc`, which move the stand-in's decision); never
    an exact zero."""
    t = np.arange(n) / rate
    x = dc + amp * (0.2 * rng.standard_normal(n) + np.sin(2 * np.pi * (180 + 40 * t) * t))
    x = np.round(np.clip(x, -0.99, 0.99) * 32767)
    x[x == 0] = 1  # no accidental digital zeros
    return x.astype(np.int16)


def _cases(rng: np.random.Generator) -> list[tuple[str, int, np.ndarray, int | None]]:
    """(file name, rate, int16 samples [n] or [n, channels], hop or None = one window)."""
    s = RATE
    gap = np.concatenate([_signal(rng, 6 * s, amp=0.3), _signal(rng, 4 * s, amp=0.01, dc=-0.05)])
    gap[3 * s : 6 * s] = 0  # window 2 (3-6 s) is digital silence
    gap[9 * s :] = 0  # and so is the zero-padded tail window (9-10 s)
    overlap = np.concatenate([_signal(rng, 4 * s, amp=0.05, dc=0.05), _signal(rng, 3 * s, amp=0.6)])
    overlap[: 3 * s] = 0  # with a 1.5 s hop: the window at 0 is silent, the one at 1.5 s is not
    cancel = _signal(rng, 2 * s)
    cancel[cancel == -32768] = -32767
    stereo = np.stack([_signal(rng, 2 * s, amp=0.02), _signal(rng, 2 * s, amp=0.02, dc=-0.04)], axis=1)
    return [
        ("gap_10s.wav", s, gap, None),
        ("overlap_7s_hop1.5.wav", s, overlap, s * 3 // 2),
        ("short_0.6s.wav", s, _signal(rng, 9600, amp=0.05, dc=0.3), None),
        ("exactly_0.1s.wav", s, _signal(rng, 1600, amp=0.1), None),
        ("long_4s_tail.wav", s, _signal(rng, 4 * s + 123, amp=0.01, dc=-0.02), None),
        ("silent_2s.wav", s, np.zeros(2 * s, np.int16), None),
        ("silent_8k.wav", 8000, np.zeros(8000, np.int16), None),
        ("stereo_cancels.wav", s, np.stack([cancel, -cancel], axis=1), None),
        ("stereo_2s.wav", s, stereo, None),
        ("tiny_0.05s.wav", s, _signal(rng, 800), None),
        ("tiny_silent.wav", s, np.zeros(800, np.int16), None),
        ("tiny_44k.wav", 44100, _signal(rng, 2205, 44100), None),
        ("resampled_22k.wav", 22050, _signal(rng, 2 * 22050 + 77, 22050, amp=0.3, dc=0.12), None),
    ]


def write_parity(out_dir: Path) -> Path:
    """Write the WAVs and predict_parity.json into out_dir; returns the JSON's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = FeatureConfig()
    weights = stand_in_weights()
    model = DeployedModel(
        path=out_dir / "stand-in.tflite",
        interpreter=StandInInterpreter(weights),  # type: ignore[arg-type]
        labels=list(LABELS),
        features=cfg,
        input_kind="waveform",
        window_samples=cfg.segment_samples,
        hop_samples=cfg.segment_hop_samples,
        description_source="stand-in",
    )
    files = []
    for name, rate, samples, hop in _cases(np.random.default_rng(1)):
        path = out_dir / name
        sf.write(path, samples, rate, subtype="PCM_16")
        entry: dict = {
            "wav": name,
            "rate": rate,
            "hop_samples": hop or model.hop_samples,
            "resampled": rate != RATE,
        }
        try:
            r = predict_file(model, path, hop_samples=hop)
        except AudioError as e:
            prefix = f"{path}: "
            msg = str(e)
            entry.update(ok=False, error=msg[len(prefix) :] if msg.startswith(prefix) else msg)
        else:
            entry.update(
                ok=True,
                emotion=r["emotion"],
                scores=[r["scores"][k] for k in LABELS],
                pooled_max=[r["pooled_max"][k] for k in LABELS],
                duration_s=r["duration_s"],
                window_starts=r["window_starts"],
                window_posteriors=r["window_posteriors"],
                notes=r["notes"],
            )
        files.append(entry)
    data = {
        "generator": "tests/android_predict_parity.py "
        "(ser_bnn.runtime.predict.predict_file with a stand-in network)",
        "labels": LABELS,
        "sample_rate": RATE,
        "window_samples": model.window_samples,
        "stand_in": {"feature_scales": FEATURE_SCALES, "weights": weights.tolist()},
        "files": files,
    }
    target = out_dir / "predict_parity.json"
    target.write_text(json.dumps(data, indent=1))
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tests/android_predict_parity.py OUT_DIR")
    print(write_parity(Path(sys.argv[1])))
