"""Write deploy/golden/golden.json: reference windows and posteriors for the Android port.

    python deploy/make_golden.py RUN_DIR/export/bcrnn.tflite [--data-dir ../shared/data/emodb]

For a few real Emo-DB files (short ones, below one 3 s window, and long ones, above 6 s; one
with the extra `PAD ` RIFF chunk) it records what the Python pipeline of `ser-bnn predict`
computes: sample count, window starts, per-window sum and sum of |x| (cheap fingerprints of
the windowing), the first 16 samples of window 0, the per-window posteriors of the exported
model (LCE interpreter, default kernels: what lce-lite runs on the phone), the pooled vector
(by the sidecar's `pooling` rule, recorded as `pooling`) and its label. No audio is stored: the
files are read from the Emo-DB directory, named relative to it. The Android tests
(android_demo/core GoldenVectorTest) recompute all of it in Java.

For a model with the speaker-statistics input, each file is a stream that starts from count 0
(`ser-bnn predict` without flags): per window also `stats_in` (the [3, n_mels] statistics the
window was classified with), `window_stats` and `speech_frames` (the model's outputs), `speech`
(speech_frames >= min_speech_frames) and, per file, `stats_out` (after the last window), so the
update rule (add the window_stats of speech windows, cap) and the speech decision can be checked
in Java. Its windows may be without speech (16a05Tb's last, 0.8 s tail): their posteriors are
recorded and not pooled.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ser_bnn  # noqa: E402,F401
from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.data.audio import load_audio  # noqa: E402
from ser_bnn.dsp.segments import pool_posteriors  # noqa: E402
from ser_bnn.dsp.speaker import COUNT_CAP, MIN_STATS_FRAMES  # noqa: E402
from ser_bnn.dsp.stats import NormStats  # noqa: E402
from ser_bnn.runtime.predict import cut_windows, load_deployed, predict_file, window_output  # noqa: E402
from ser_bnn.runtime.tracker import Tracker  # noqa: E402

# 1.2 s, 1.9 s, 2.1 s (PAD chunk before data): one zero-padded window each;
# 6.0 s (2 windows), 6.8 s, 7.7 s, 9.0 s (3 windows, the last zero-padded).
DEFAULT_FILES = ("12a02Ac", "03a01Fa", "14a07Aa", "12b03Ta", "16a05Tb", "08b02Tc", "08b03Tc")


def _f32(values: np.ndarray) -> list[float]:
    """float32 values as JSON numbers that parse back to the same float32 (9 significant digits)."""
    return [float(f"{float(v):.9g}") for v in np.asarray(values, np.float32).reshape(-1)]


def _stats(st: NormStats) -> list[list[float]]:
    """[3, n_mels] float64 (count in every band, sum, sumsq), as the app keeps them (float32 at the input)."""
    return [[float(st.count)] * len(st.sum), [float(v) for v in st.sum], [float(v) for v in st.sumsq]]


def _stream(model, windows: np.ndarray) -> dict:  # noqa: ANN001 - DeployedModel
    """One file as a stream from count 0: statistics in, window outputs, statistics out."""
    tracker = Tracker.start(model.features.n_mels, None, model.min_speech_frames)
    rows = {"stats_in": [], "window_stats": [], "speech_frames": [], "speech": [], "posteriors": []}
    for w in windows:
        rows["stats_in"].append(_stats(tracker.stats))
        out = window_output(model, w, tracker.stats)
        rows["posteriors"].append(out.probabilities)
        rows["window_stats"].append([_f32(r) for r in out.window_stats])
        rows["speech_frames"].append(int(round(out.speech_frames)))
        rows["speech"].append(tracker.update(out.window_stats, out.speech_frames))
    rows["stats_out"] = _stats(tracker.stats)
    return rows


def golden(model_path: Path, data_dir: Path, ids: list[str]) -> dict:
    model = load_deployed(model_path)
    if model.input_kind != "waveform":
        raise SystemExit("golden vectors are for the waveform-input model")
    window, hop = model.window_samples, model.hop_samples
    files = []
    for uid in ids:
        rel = Path("wav") / f"{uid}.wav"
        wave = load_audio(data_dir / rel, model.sample_rate)
        windows, starts = cut_windows(wave, window, hop)
        if not np.all(np.any(windows != 0, axis=1)):
            raise SystemExit(f"{rel}: has an all-zero window (predict would skip it); pick another file")
        check = predict_file(model, data_dir / rel)  # the CLI's own path (streaming from count 0)
        rows = check["windows"]
        speech = np.array([r["speech"] for r in rows])
        stream = _stream(model, windows) if model.takes_stats else {}
        if not speech.any() or (not stream and not speech.all()):
            raise SystemExit(f"{rel}: has a window without speech (not pooled); pick another file")
        # every window's posteriors (a stats model: also those of windows without speech, which are
        # not pooled: the Java stream must decide them the same way)
        post = np.float32(stream.pop("posteriors")) if stream else np.float32(check["window_posteriors"])
        pooled = np.float32(pool_posteriors(post[speech], model.pooling))
        assert np.allclose([check["pooled"][k] for k in model.labels], pooled, rtol=1e-6), rel
        entry = {
            "wav": rel.as_posix(),
            "n_samples": int(len(wave)),
            "window_starts": [int(s) for s in starts],
            "window_sums": [float(w.astype(np.float64).sum()) for w in windows],
            "window_abs_sums": [float(np.abs(w.astype(np.float64)).sum()) for w in windows],
            "first_samples": _f32(windows[0][:16]),
            "posteriors": [_f32(p) for p in post],
            "pooled": _f32(pooled),
            "label": model.labels[int(np.argmax(pooled))],
            "duration_s": round(len(wave) / model.sample_rate, 4),
        }
        if stream:
            assert stream["speech"] == speech.tolist(), rel
            entry.update(stream)
        files.append(entry)
    data = model_path.read_bytes()
    return {
        "model": model_path.name,
        "model_sha256": hashlib.sha256(data).hexdigest(),
        "labels": model.labels,
        "sample_rate": model.sample_rate,
        "window_samples": window,
        "hop_samples": hop,
        "pooling": model.pooling,
        "interpreter": "larq-compute-engine 0.16 Python interpreter, default kernels, 1 thread, no XNNPACK",
        **({"stats_rule": {"min_stats_frames": MIN_STATS_FRAMES, "count_cap": COUNT_CAP,
                           "min_speech_frames": model.min_speech_frames, "start": "count 0 for each file"}}
           if model.takes_stats else {}),
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, help="exported waveform-input .tflite with its MODEL.json sidecar")
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "emodb",
                   help="Emo-DB directory holding wav/")
    p.add_argument("--files", nargs="+", default=list(DEFAULT_FILES), help="Emo-DB utterance ids")
    p.add_argument("-o", "--out", type=Path, default=ROOT / "deploy" / "golden" / "golden.json")
    args = p.parse_args(argv)
    doc = golden(args.model, args.data_dir, args.files)
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    for f in doc["files"]:
        n = len(f['window_starts'])
        print(f"{f['wav']:<20} {f['duration_s']:>6.2f} s  {n} window(s)  -> {f['label']}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) for {doc['model']}")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "make_golden.py"))
