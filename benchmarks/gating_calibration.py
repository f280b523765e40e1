"""Calibrate the speech gate (ser_bnn.dsp.gating) on real speech and on synthetic non-speech.

    python benchmarks/gating_calibration.py [--data-dir ../shared/data/emodb]

Speech: every 3 s window (no overlap, the last zero-padded) of every Emo-DB file. Non-speech:
3 s of near-silence (about -90 dBFS: +-1 LSB dither of 16-bit audio) and white noise at
-60..-6 dBFS (RMS re full scale), several seeds. For each it reports the speech frames of the
NumPy reference of the gate (the graph's rule, tested against it in tests/test_online.py) and the
margins to the thresholds; writes benchmarks/results/gating_calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ser_bnn  # noqa: E402,F401
from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.config import FeatureConfig  # noqa: E402
from ser_bnn.data.audio import load_audio  # noqa: E402
from ser_bnn.dsp import gating  # noqa: E402
from ser_bnn.dsp.segments import segment_waveform  # noqa: E402
from ser_bnn.dsp.speaker import raw_window  # noqa: E402

NOISE_DBFS = (-60, -50, -40, -30, -20, -10, -6)
SEEDS = (0, 1, 2)


def frame_features(wave: np.ndarray, fc: FeatureConfig) -> dict[str, np.ndarray]:
    raw, valid = raw_window(wave, fc)
    return {
        "valid": valid,
        "energy": gating.frame_energy(raw),
        "log_flatness": gating.log_flatness(raw),
        "speech_frames": int(gating.speech_frames(raw, valid, "energy-flatness")),
    }


def nonspeech_windows(fc: FeatureConfig) -> dict[str, list[np.ndarray]]:
    n = fc.segment_samples
    out: dict[str, list[np.ndarray]] = {"dither_-90dBFS": []}
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        out["dither_-90dBFS"].append((rng.integers(-1, 2, n) / 32768.0).astype(np.float32))
        for db in NOISE_DBFS:
            x = 10 ** (db / 20) * rng.standard_normal(n)
            out.setdefault(f"white_{db}dBFS", []).append(np.clip(x, -1, 1).astype(np.float32))
    return out


def calibrate(data_dir: Path) -> dict:
    fc = FeatureConfig()
    speech_counts, signal_counts, frame_e, frame_f = [], [], [], []
    for f in sorted((data_dir / "wav").glob("*.wav")):
        for w in segment_waveform(load_audio(f, fc.sample_rate), fc):
            r = frame_features(w, fc)
            speech_counts.append(r["speech_frames"])
            signal_counts.append(int(r["valid"].sum()))
            frame_e.append(r["energy"][r["valid"]])
            frame_f.append(r["log_flatness"][r["valid"]])
    sc, nc = np.array(speech_counts), np.array(signal_counts)
    e, fl = np.concatenate(frame_e), np.concatenate(frame_f)
    full = nc >= 100  # windows with at least 1 s of signal
    not_speech = ~gating.is_speech(sc, "energy-flatness")
    emodb = {
        "windows": int(len(sc)),
        "windows_speech": int((~not_speech).sum()),
        "windows_not_speech": int(not_speech.sum()),
        "not_speech_signal_frames_max": int(nc[not_speech].max()) if not_speech.any() else 0,
        "not_speech_signal_frames": sorted(int(v) for v in nc[not_speech]),
        "windows_with_1s_signal": int(full.sum()),
        "min_speech_frames_with_1s_signal": int(sc[full].min()),
        "margin_frames_with_1s_signal": int(sc[full].min() - gating.MIN_SPEECH_FRAMES),
        "frame_energy_percentiles_5_50_95": np.percentile(e, [5, 50, 95]).round(3).tolist(),
        "frame_log_flatness_percentiles_5_50_95": np.percentile(fl, [5, 50, 95]).round(3).tolist(),
        "frames_speech_share": float(((e > gating.ENERGY_FLOOR) & (fl < gating.LOG_FLATNESS_MAX)).mean()),
    }
    synthetic = {}
    for name, windows in nonspeech_windows(fc).items():
        rs = [frame_features(w, fc) for w in windows]
        synthetic[name] = {
            "max_speech_frames": max(r["speech_frames"] for r in rs),
            "energy_max": round(float(max(r["energy"].max() for r in rs)), 3),
            "log_flatness_min": round(float(min(r["log_flatness"].min() for r in rs)), 3),
        }
    worst = max(v["max_speech_frames"] for v in synthetic.values())
    return {
        "constants": gating.describe(),
        "emodb": emodb,
        "synthetic_nonspeech": synthetic,
        "nonspeech_margin_frames": int(gating.MIN_SPEECH_FRAMES - worst),
        "dither_energy_margin": round(gating.ENERGY_FLOOR - synthetic["dither_-90dBFS"]["energy_max"], 3),
        "white_noise_flatness_margin": round(
            min(v["log_flatness_min"] for k, v in synthetic.items() if k.startswith("white"))
            - gating.LOG_FLATNESS_MAX,
            3,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "emodb")
    p.add_argument("-o", "--out", type=Path,
                   default=ROOT / "benchmarks" / "results" / "gating_calibration.json")
    args = p.parse_args(argv)
    doc = calibrate(args.data_dir)
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    e = doc["emodb"]
    print(
        f"Emo-DB: {e['windows_speech']}/{e['windows']} windows speech; the {e['windows_not_speech']} others "
        f"have <= {e['not_speech_signal_frames_max']} signal frames; windows with >= 1 s of signal: "
        f"min {e['min_speech_frames_with_1s_signal']} speech frames "
        f"(margin {e['margin_frames_with_1s_signal']})"
    )
    for k, v in doc["synthetic_nonspeech"].items():
        print(f"{k:<16} max speech frames {v['max_speech_frames']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "gating_calibration.py"))
