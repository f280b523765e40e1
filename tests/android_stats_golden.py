"""Golden vectors of the speaker statistics, the gating decision and the streaming rule, for the Android core.

    python tests/android_stats_golden.py OUT_DIR

writes OUT_DIR/stats_golden.json with its profiles and WAVs beside it. tests/test_android_core.py calls
`write_stats_golden` into a temporary directory; the Java test `SpeakerStatsGoldenTest`
(android_demo/core) replays it. Everything comes from the Python side's own code:

- `streams`: sequences of window outputs (`window_stats` float32 [3, n_mels], `speech_frames`) fed to
  `ser_bnn.runtime.tracker.Tracker` (its `update`: `ser_bnn.dsp.gating.is_speech`, add, `cap`), from zero
  statistics or from a profile: per window the model input before it (`speaker.to_tensor`), which
  statistics the graph selects (`speaker.norm_params`), the speech decision, and the statistics after it
  (float64). One stream runs past `speaker.COUNT_CAP`, one starts just below it, one has a window whose
  count row differs between bands (the count is band 0's, as `speaker.from_tensor` takes it), and
  speech_frames sit on both sides of `MIN_CHANGE_FRAMES` (29, 29.5, 30, 31). No model is involved.
- `profiles`: a profile written by `save_profile` and two that Python reads beyond the writer's
  format (version 1.0, no n_mels, integers; numeric strings and booleans as values): Java must read them
  exactly. Unusable profiles with the one-line message `load_profile` gives for each (Java must
  refuse them; where `exact` is true, with the same message), including texts that org.json reads
  differently from Python's json (a byte-order mark, a bare word, NaN / Infinity / 1e400 as object
  members) and values that float() / numpy convert or refuse (null, strings, nested and empty lists).
  `java_profile` names the file the Java test writes from its own statistics after stream
  `java_profile.stream`; the pytest driver then reads it with `load_profile` and compares it with
  Python's statistics bit for bit.
- `roles`: tensor shape sets and what `ser_bnn.runtime.roles.find_roles` makes of them (indices, or the
  error).
- `sessions`: `ser_bnn.runtime.predict.predict_file`, the CLI's code path, over small WAVs with a stand-in
  network
  that has the exported interface (inputs waveform [1, 48000] and speaker_stats [1, 3, 40]; outputs in
  LCE's order speech_frames [1, 1], window_stats [1, 3, 40], probabilities [1, C]), looped over the
  files as `ser-bnn predict [--profile P]` does (each file streams from the profile, or from zero
  statistics; the profile gets every speech window of every file). The stand-in computes a pseudo log-Mel
  from the samples (per 10 ms frame, 40 groups of 4 samples: log(mean square + 1e-6)), its statistics over
  the frames that hold signal, its speech frames (signal and mean energy above -9) and probabilities
  that depend on the statistics input (standardized window means, default mean -8 / std 2 below 100
  frames), so a wrong statistics input changes the posteriors. Per file: predict's result (status,
  emotion, scores, pooled_max, notes, per-window rows) and, per network call, the `speaker_stats` input it
  received and the outputs it returned. Java replays the outputs, checks that it passes the same
  statistics input on every call, and must reach the same decisions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ser_bnn.config import FeatureConfig  # noqa: E402
from ser_bnn.dsp import (  # noqa: E402
    gating,  # noqa: E402
    speaker,  # noqa: E402
)
from ser_bnn.dsp.stats import NormStats  # noqa: E402
from ser_bnn.errors import AudioError, SerBnnError  # noqa: E402
from ser_bnn.runtime.predict import DeployedModel, predict_file  # noqa: E402
from ser_bnn.runtime.roles import find_roles  # noqa: E402
from ser_bnn.runtime.tracker import (  # noqa: E402
    ProfileError,
    Tracker,
    load_profile,
    profile_dict,
    save_profile,  # noqa: E402
)

N_MELS = 40
RATE = 16000
LABELS = ["anger", "boredom", "neutral", "sadness", "happiness"]
FRAME = 160
SPEECH_ENERGY = -9.0
DEFAULT_MEAN, DEFAULT_STD = -8.0, 2.0


def _stats(st: NormStats) -> dict[str, Any]:
    return {
        "count": float(st.count),
        "sum": [float(v) for v in st.sum],
        "sumsq": [float(v) for v in st.sumsq],
    }


def _f32(a: np.ndarray) -> list:
    """float32 values as exact doubles (json writes repr, which reads back to the same value)."""
    return np.asarray(a, np.float32).astype(np.float64).tolist()


# ---------------------------------------------------------------------------------------- streams


def _window_stats(rng: np.random.Generator, n_frames: int, level: float) -> np.ndarray:
    """float32 [3, N_MELS] statistics of `n_frames` pseudo log-Mel frames around `level`."""
    frames = level + rng.normal(0.0, 1.5, (n_frames, N_MELS)) + np.linspace(1.0, -3.0, N_MELS)
    return speaker.to_tensor(NormStats.from_frames(frames))[0]


def _run_stream(cfg: FeatureConfig, start: NormStats | None, windows: list[tuple[np.ndarray, float]]) -> dict:
    tracker = Tracker.start(N_MELS, start)
    rows = []
    for ws, frames in windows:
        before = tracker.tensor()[0]
        _, _, source = speaker.norm_params(tracker.stats, cfg)
        speech = tracker.update(ws, frames)
        row = {
            "window_stats": _f32(ws),
            "speech_frames": float(frames),
            "input_before": _f32(before),
            "source_before": source,
            "speech": bool(speech),
            "after": _stats(tracker.stats),
        }
        if tracker.stats.count > 0:
            row["mean_after"] = tracker.stats.mean().tolist()
            row["std_after"] = tracker.stats.std(cfg.std_floor).tolist()
        rows.append(row)
    return {"start": None if start is None else _stats(start), "windows": rows}


def _streams(cfg: FeatureConfig, rng: np.random.Generator, profile_start: NormStats) -> dict[str, dict]:
    frames_choices = [0.0, 12.0, 29.0, 29.5, 30.0, 31.0, 80.0, 300.0]
    realistic = []
    for i in range(60):
        n = int(rng.choice([300, 300, 300, 187, 41, 1]))
        sf_ = float(min(n, frames_choices[i % len(frames_choices)]))
        realistic.append((_window_stats(rng, n, rng.uniform(-10, -4)), sf_))
    capped = [(_window_stats(rng, 300, rng.uniform(-9, -5)), 300.0) for _ in range(130)]
    near = [(_window_stats(rng, 300, -6.0), f) for f in (300.0, 29.0, 30.0, 300.0, 0.0, 150.0)]
    odd = _window_stats(rng, 250, -7.0)
    odd[0] = np.linspace(250, 211, N_MELS, dtype=np.float32)  # count row differs: band 0 counts
    band0 = [(_window_stats(rng, 120, -7.0), 120.0), (odd, 200.0), (_window_stats(rng, 90, -6.0), 90.0)]
    return {
        "realistic": _run_stream(cfg, None, realistic),
        "past_the_cap": _run_stream(cfg, None, capped),
        "from_profile_near_the_cap": _run_stream(cfg, profile_start, near),
        "count_from_band_0": _run_stream(cfg, None, band0),
    }


# ---------------------------------------------------------------------------------------- profiles


def _profiles(out: Path, start: NormStats) -> dict:
    good = out / "profile_python.json"
    save_profile(good, start)
    base = profile_dict(start)

    def variant(**changes: Any) -> dict:
        d = dict(base)
        for k, v in changes.items():
            if v is _DROP:
                d.pop(k)
            else:
                d[k] = v
        return d

    bad_sum = list(base["sum"])
    bad_sum[3] = float("nan")
    inf_sq = list(base["sumsq"])
    inf_sq[7] = float("inf")
    neg_sq = list(base["sumsq"])
    neg_sq[0] = -1.0
    no_n = {k: v for k, v in base.items() if k != "n_mels"}
    cases: list[tuple[str, bytes | str | dict, bool]] = [
        ("not_json.json", '{"count": 3,', True),
        ("empty.json", "", True),
        ("trailing.json", json.dumps(base) + " x", True),
        ("not_utf8.json", b"\xff\xfe{}", True),
        ("not_object.json", [1, 2, 3], True),
        ("version_2.json", variant(version=2), True),
        ("version_string.json", variant(version="1"), True),
        ("version_null.json", variant(version=None), True),
        ("n_mels_39.json", variant(n_mels=39), True),
        ("sum_39_bands.json", {**no_n, "sum": base["sum"][:39]}, True),
        ("sumsq_41_bands.json", {**no_n, "sumsq": base["sumsq"] + [1.0]}, True),
        ("nan_sum.json", variant(sum=bad_sum), True),
        ("inf_sumsq.json", variant(sumsq=inf_sq), True),
        ("nan_count.json", variant(count=float("nan")), True),
        ("negative_count.json", variant(count=-5.0), True),
        ("negative_sumsq.json", variant(sumsq=neg_sq), True),
        ("missing_count.json", variant(count=_DROP), True),
        ("missing_sumsq.json", variant(sumsq=_DROP), True),
        ("count_null.json", variant(count=None), True),
        ("sum_nested.json", variant(sum=[[1.0, 2.0]] * 20), True),
        # what org.json reads differently from Python's json: the Java side must still give Python's message
        ("bom.json", "\ufeff" + json.dumps(base), True),
        ("bare_word.json", "speaker", True),
        ("string.json", '"speaker"', True),
        ("inf_count.json", variant(count=float("inf")), True),
        ("huge_count.json", json.dumps(variant(count=0.5)).replace("0.5", "1e400", 1), True),
        ("sum_nulls.json", variant(sum=[None] * N_MELS), True),
        ("sum_scalar.json", variant(sum=5.0), True),
        ("sum_null.json", variant(sum=None), True),
        ("sum_object.json", variant(sum={}), True),
        ("count_word.json", variant(count="many"), True),
        ("count_list.json", variant(count=[1.0]), True),
        ("sum_words.json", variant(sum=["x"] * N_MELS), True),
        ("sum_empty.json", {**no_n, "sum": []}, True),
        ("bad_count_before_missing_sum.json", variant(count=None, sum=_DROP), True),
        ("sum_39_before_nested_sq.json", {**no_n, "sum": base["sum"][:39], "sumsq": [[1.0]] * N_MELS}, True),
        ("version_2_and_nan.json", variant(version=2, count=float("nan")), True),
        ("n_mels_39_and_nan.json", variant(n_mels=39, count=float("nan")), True),
        ("sum_ragged.json", variant(sum=[[1.0], [2.0, 3.0]]), False),  # numpy's wording is not reproduced
    ]
    bad = []
    for name, content, exact in cases:
        p = out / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        elif isinstance(content, str):
            p.write_text(content)
        else:
            p.write_text(json.dumps(content))
        try:
            load_profile(p, N_MELS)
        except ProfileError as e:
            bad.append({"file": name, "error": str(e), "path_in_error": str(p), "exact": exact})
        else:
            raise AssertionError(f"{name}: Python accepted it")
    # what Python accepts beyond the writer's format: version 1.0, no n_mels, integers
    lenient = out / "profile_lenient.json"
    lenient.write_text(json.dumps({**no_n, "version": 1.0, "count": 1234, "format": "anything"}))
    st = load_profile(lenient, N_MELS)
    # float() and np.asarray(..., float) also read numeric strings and booleans
    converted = out / "profile_converted.json"
    sumsq_text = [repr(x) for x in base["sumsq"]]
    sumsq_text[0], sumsq_text[1] = " 1e3 ", True
    converted.write_text(json.dumps({**base, "count": "1234.5", "sumsq": sumsq_text}))
    st_converted = load_profile(converted, N_MELS)
    return {
        "n_mels": N_MELS,
        "python_profile": {"file": good.name, "stats": _stats(start)},
        "lenient_profile": {"file": lenient.name, "stats": _stats(st)},
        "converted_profile": {"file": converted.name, "stats": _stats(st_converted)},
        "bad": bad,
        "java_profile": {"file": "profile_java.json", "stream": "realistic"},
    }


_DROP = object()


# ---------------------------------------------------------------------------------------- roles


def _roles() -> list[dict]:
    w, st, sp, c = (1, 48000), (1, 3, N_MELS), (1, 1), (1, len(LABELS))
    cases = [
        ("exported (LCE order)", [w, st], [sp, st, c]),
        ("statistics input second", [st, w], [c, sp, st]),
        ("global-norm model", [w], [sp, st, c]),
        ("before the statistics interface", [w], [c]),
        ("no probabilities", [w, st], [sp, st]),
        ("no signal", [st], [c]),
        ("two statistics inputs", [w, st, st], [c]),
        ("extra output", [w], [c, (1, 2)]),
        ("window_stats without speech_frames", [w], [c, st]),
    ]
    out = []
    for name, ins, outs in cases:
        entry: dict[str, Any] = {
            "name": name,
            "inputs": [list(s) for s in ins],
            "outputs": [list(s) for s in outs],
        }
        try:
            r = find_roles(ins, outs, w, len(LABELS), N_MELS, "model")
        except SerBnnError as e:
            entry["error"] = str(e)
        else:
            entry["roles"] = {
                k: (-1 if v is None else v)
                for k, v in (
                    ("signal", r.signal),
                    ("probabilities", r.probabilities),
                    ("speaker_stats", r.speaker_stats),
                    ("window_stats", r.window_stats),
                    ("speech_frames", r.speech_frames),
                )
            }
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------- sessions


class StatsStandIn:
    """An interpreter with the exported interface (see the module docstring); logs every call."""

    input_shapes = [(1, 48000), (1, 3, N_MELS)]
    output_shapes = [(1, 1), (1, 3, N_MELS), (1, len(LABELS))]

    def __init__(self) -> None:
        self.weights = np.random.default_rng(7).standard_normal((5, len(LABELS)))
        self.calls: list[dict] = []

    def invoke(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        wave = np.asarray(inputs[0], np.float32)[0].astype(np.float64)
        stats_in = np.asarray(inputs[1], np.float32)
        frames = wave.reshape(-1, FRAME)
        valid = np.any(frames != 0, axis=1)
        raw = np.log(np.mean(frames.reshape(len(frames), N_MELS, FRAME // N_MELS) ** 2, axis=2) + 1e-6)
        ws = speaker.to_tensor(NormStats.from_frames(raw[valid]))
        n_speech = float(np.sum(valid & (raw.mean(axis=1) > SPEECH_ENERGY)))
        st = speaker.from_tensor(stats_in)
        if st.count < speaker.MIN_STATS_FRAMES:
            mean, std = np.full(N_MELS, DEFAULT_MEAN), np.full(N_MELS, DEFAULT_STD)
        else:
            mean, std = st.mean(), st.std(1e-3)
        z = (raw[valid] - mean) / std if valid.any() else np.zeros((1, N_MELS))
        groups = z.mean(axis=0).reshape(4, -1).mean(axis=1)
        logits = np.concatenate([groups, [1.0]]) @ self.weights
        e = np.exp(logits - logits.max())
        probs = (e / e.sum()).astype(np.float32)[None]
        speech = np.array([[n_speech]], np.float32)
        self.calls.append(
            {
                "first_samples": _f32(wave[:8]),
                "sum": float(wave.sum()),
                "stats_in": _f32(stats_in[0]),
                "speech_frames": n_speech,
                "window_stats": _f32(ws[0]),
                "probabilities": _f32(probs[0]),
            }
        )
        return [speech, ws, probs]


def _tone(rng: np.random.Generator, seconds: float, amp: float) -> np.ndarray:
    n = int(round(seconds * RATE))
    t = np.arange(n) / RATE
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)
    x = amp * env * (np.sin(2 * np.pi * (150 + 60 * t) * t) + 0.3 * rng.standard_normal(n))
    return x


def _pcm(x: np.ndarray) -> np.ndarray:
    y = np.round(np.clip(x, -0.99, 0.99) * 32767).astype(np.int16)
    y[y == 0] = 1  # no accidental digital zeros
    return y


def _wavs(rng: np.random.Generator) -> list[tuple[str, np.ndarray, int | None]]:
    """(name, int16 samples, hop or None)."""
    quiet = lambda s: _tone(rng, s, 0.0004)  # noqa: E731 - energy far below SPEECH_ENERGY
    loud = lambda s: _tone(rng, s, 0.3)  # noqa: E731
    gap = _pcm(np.concatenate([loud(3.0), np.zeros(3 * RATE), loud(2.5)]))
    gap[3 * RATE : 6 * RATE] = 0
    return [
        ("speech_then_quiet_10s.wav", _pcm(np.concatenate([loud(4.0), quiet(6.0)])), None),
        ("quiet_4s.wav", _pcm(quiet(4.0)), None),
        ("gap_8.5s.wav", gap, None),
        ("speech_8s_hop1.wav", _pcm(loud(8.0)), RATE),
        ("short_speech_0.5s.wav", _pcm(loud(0.5)), None),
        ("tiny_speech_0.2s.wav", _pcm(loud(0.2)), None),
        ("quiet_then_speech_7s.wav", _pcm(np.concatenate([quiet(3.2), loud(3.8)])), None),
    ]


def _result(r: dict) -> dict:
    keep = {k: r[k] for k in ("emotion", "status", "notes", "window_starts", "window_posteriors", "windows")}
    keep["scores"] = None if r["scores"] is None else [r["scores"][k] for k in LABELS]
    keep["pooled_max"] = None if r["pooled_max"] is None else [r["pooled_max"][k] for k in LABELS]
    keep["duration_s"] = r["duration_s"]
    return keep


def _sessions(out: Path, start: NormStats) -> dict:
    cfg = FeatureConfig()
    model = _stand_in_model(out)
    interp = model.interpreter
    assert model.takes_stats and model.gated
    wavs = _wavs(np.random.default_rng(3))
    for name, samples, _ in wavs:
        sf.write(out / name, samples, RATE, subtype="PCM_16")
    sessions = {}
    for label, profile in (("no_profile", None), ("with_profile", start)):
        # the loop of ser_bnn.commands.predict.run (streaming mode)
        saved = Tracker.start(N_MELS, profile)
        files = []
        for name, _, hop in wavs:
            tracker = Tracker.start(N_MELS, profile)
            interp.calls = []
            entry: dict[str, Any] = {"wav": name, "hop_samples": hop or model.hop_samples}
            try:
                r = predict_file(model, out / name, hop, tracker=tracker, also=saved)
            except AudioError as e:
                msg, prefix = str(e), f"{out / name}: "
                entry.update(ok=False, error=msg[len(prefix) :] if msg.startswith(prefix) else msg)
            else:
                entry.update(ok=True, result=_result(r), stats_after=_stats(tracker.stats))
            entry["calls"] = interp.calls
            files.append(entry)
        sessions[label] = {
            "start": None if profile is None else _stats(profile),
            "files": files,
            "profile_after": _stats(saved.stats),
        }
    return {
        "labels": LABELS,
        "n_mels": N_MELS,
        "window_samples": cfg.segment_samples,
        "sample_rate": RATE,
        "min_speech_frames": gating.MIN_CHANGE_FRAMES,
        "min_stats_frames": speaker.MIN_STATS_FRAMES,
        "count_cap": speaker.COUNT_CAP,
        **sessions,
    }


# ---------------------------------------------------------------------------------------- sidecar


def exported_stats_sidecar(out: Path) -> Path:
    """MODEL.json + MODEL.labels.txt of a norm "speaker" waveform model, written by the exporter's own code
    (ser_bnn.export.artifact), with the tensors in LCE's order (a stand-in flatbuffer)."""
    from ser_bnn.config import Config
    from ser_bnn.export.artifact import describe, sidecar, write_artifact
    from ser_bnn.export.conversion import Run
    from ser_bnn.runtime.flatbuffer import TensorInfo

    mean = tuple(float(v) for v in np.linspace(-9.0, -5.0, N_MELS))
    std = tuple(float(v) for v in np.linspace(1.5, 2.5, N_MELS))
    cfg = Config(labels=tuple(LABELS))
    cfg = Config.from_dict(
        {
            **cfg.to_dict(),
            "features": {**cfg.to_dict()["features"], "norm": "speaker", "norm_mean": mean, "norm_std": std},
        }
    )
    fc = cfg.features
    ins = [
        TensorInfo("serving_default_waveform:0", (1, fc.segment_samples), "float32"),
        TensorInfo("serving_default_speaker_stats:0", (1, 3, fc.n_mels), "float32"),
    ]
    outs = [
        TensorInfo("StatefulPartitionedCall:0", (1, 1), "float32"),
        TensorInfo("StatefulPartitionedCall:1", (1, 3, fc.n_mels), "float32"),
        TensorInfo("StatefulPartitionedCall:2", (1, len(LABELS)), "float32"),
    ]
    desc = describe(cfg, "waveform", ins, outs)
    run = Run(
        run_dir=out,
        cfg=cfg,
        model=None,
        split={"split": "fixed", "test_speakers": ["03"]},
        weights_source="best.weights.h5",
    )
    target = out / "speaker.tflite"
    model = b"stand-in for the flatbuffer"
    write_artifact(target, model, sidecar(desc, model, target, run), report={})
    return out / "speaker.json"


def _stand_in_model(out: Path) -> DeployedModel:
    cfg = FeatureConfig()
    interp = StatsStandIn()
    roles = find_roles(
        interp.input_shapes, interp.output_shapes, (1, cfg.segment_samples), len(LABELS), N_MELS
    )
    return DeployedModel(
        path=out / "stand-in.tflite",
        interpreter=interp,  # type: ignore[arg-type]
        labels=list(LABELS),
        features=cfg,
        input_kind="waveform",
        window_samples=cfg.segment_samples,
        hop_samples=cfg.segment_hop_samples,
        description_source="stand-in",
        roles=roles,
    )


def fallback_model_golden(emodb: Path, out: Path) -> Path:
    """A golden file in the layout `deploy/make_golden.py` writes for a speaker-statistics model
    (deploy/golden/golden_stats.json), for when no such file exists: the same Emo-DB files, the same
    per-file stream (make_golden's own `_stream`: ser_bnn.runtime.tracker.Tracker from count 0) and
    predict_file's posteriors, with the stand-in network of this module instead of an exported model."""
    from ser_bnn.data.audio import load_audio
    from ser_bnn.runtime.predict import cut_windows

    sys.path.insert(0, str(ROOT / "deploy"))
    import make_golden  # deploy/make_golden.py, used as is

    out.parent.mkdir(parents=True, exist_ok=True)
    model = _stand_in_model(out.parent)
    files = []
    for uid in make_golden.DEFAULT_FILES:
        rel = Path("wav") / f"{uid}.wav"
        wave = load_audio(emodb / rel, model.sample_rate)
        windows, starts = cut_windows(wave, model.window_samples, model.hop_samples)
        check = predict_file(model, emodb / rel)
        if not all(r["speech"] for r in check["windows"]) or len(check["windows"]) != len(windows):
            continue  # make_golden refuses such files too
        post = np.float32(check["window_posteriors"])
        pooled = post.max(axis=0)
        entry = {
            "wav": rel.as_posix(),
            "n_samples": int(len(wave)),
            "window_starts": [int(s) for s in starts],
            "window_sums": [float(w.astype(np.float64).sum()) for w in windows],
            "window_abs_sums": [float(np.abs(w.astype(np.float64)).sum()) for w in windows],
            "first_samples": make_golden._f32(windows[0][:16]),
            "posteriors": [make_golden._f32(p) for p in post],
            "pooled": make_golden._f32(pooled),
            "label": LABELS[int(np.argmax(pooled))],
            "duration_s": round(len(wave) / model.sample_rate, 4),
        }
        entry.update(make_golden._stream(model, windows))
        files.append(entry)
    assert len(files) >= 3, "the stand-in calls too many Emo-DB windows non-speech"
    doc = {
        "model": "stand-in (tests/android_stats_golden.py)",
        "labels": LABELS,
        "sample_rate": model.sample_rate,
        "window_samples": model.window_samples,
        "hop_samples": model.hop_samples,
        "pooling": "max",
        "stats_rule": {
            "min_stats_frames": speaker.MIN_STATS_FRAMES,
            "count_cap": speaker.COUNT_CAP,
            "min_speech_frames": gating.MIN_CHANGE_FRAMES,
            "start": "count 0 for each file",
        },
        "files": files,
    }
    out.write_text(json.dumps(doc))
    return out


def write_stats_golden(out_dir: Path) -> Path:
    """Write stats_golden.json (and its profiles and WAVs) into out_dir; returns the JSON's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = FeatureConfig()
    rng = np.random.default_rng(11)
    start = NormStats(29950.0, rng.uniform(-9, -5, N_MELS) * 29950.0, rng.uniform(30, 90, N_MELS) * 29950.0)
    data = {
        "generator": "tests/android_stats_golden.py "
        "(ser_bnn.runtime.tracker, ser_bnn.dsp.gating, ser_bnn.runtime.predict)",
        "n_mels": N_MELS,
        "count_cap": speaker.COUNT_CAP,
        "min_stats_frames": speaker.MIN_STATS_FRAMES,
        "min_speech_frames": gating.MIN_CHANGE_FRAMES,
        "std_floor": cfg.std_floor,
        "streams": _streams(cfg, rng, start),
        "profiles": _profiles(out_dir, start),
        "roles": _roles(),
        "sessions": _sessions(
            out_dir, NormStats(450.0, start.sum / start.count * 450.0, start.sumsq / start.count * 450.0)
        ),
    }
    target = out_dir / "stats_golden.json"
    target.write_text(json.dumps(data))
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tests/android_stats_golden.py OUT_DIR")
    print(write_stats_golden(Path(sys.argv[1])))
