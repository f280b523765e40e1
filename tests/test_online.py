"""Online speaker statistics and speech gating: the graph against its NumPy references, on real
Emo-DB audio and synthetic non-speech; the update rule and speaker profiles."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import ser_bnn  # noqa: F401
from ser_bnn.config import FeatureConfig
from ser_bnn.data import soundsets
from ser_bnn.dsp import gating, speaker
from ser_bnn.dsp.segments import segment_waveform
from ser_bnn.dsp.stats import NormStats
from ser_bnn.runtime import tracker

DEFAULTS = FeatureConfig(
    norm="speaker", norm_mean=tuple(np.linspace(-9, -4, 40)), norm_std=tuple(np.linspace(2.5, 4.5, 40))
)
FILES = ("03a01Fa", "16b10Tb", "14a07Aa", "12a02Ac")  # 1.9 s to 6.9 s: full and zero-padded windows


@pytest.fixture(scope="module")
def windows(emodb_dir: Path) -> np.ndarray:
    from ser_bnn.data.audio import load_audio

    ws = [segment_waveform(load_audio(emodb_dir / "wav" / f"{f}.wav"), DEFAULTS) for f in FILES]
    return np.concatenate(ws)


def nonspeech(n: int = 48000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    out = {"dither_-90dBFS": (rng.integers(-1, 2, n) / 32768.0).astype(np.float32)}
    for db in (-40, -20, -6):
        out[f"white_{db}dBFS"] = np.clip(10 ** (db / 20) * rng.standard_normal(n), -1, 1).astype(np.float32)
    return out


@pytest.fixture(scope="module")
def layer():  # noqa: ANN201
    from ser_bnn.export.graph import get_online_frontend_class

    return get_online_frontend_class()(features=DEFAULTS)


def run_layer(layer, wave: np.ndarray, stats: NormStats) -> tuple[np.ndarray, np.ndarray, float]:  # noqa: ANN001
    x, ws, sf = layer([wave[None], speaker.to_tensor(stats)])
    return x.numpy()[0], ws.numpy()[0], float(sf.numpy()[0, 0])


def test_graph_statistics_and_standardization_match_numpy(layer, windows: np.ndarray) -> None:  # noqa: ANN001
    # a real speaker's statistics (NumPy reference), then each window through the graph with them
    ref_stats = [speaker.window_outputs_reference(w, DEFAULTS) for w in windows]
    spk = sum((s for s, _ in ref_stats), NormStats.empty(40))
    mean, std, source = speaker.norm_params(spk, DEFAULTS)
    assert source == "speaker" and spk.count > 500
    assert np.any(windows[-1] == 0), "expected a zero-padded window"
    for w, (st, n_speech) in zip(windows, ref_stats, strict=True):
        x, ws, sf = run_layer(layer, w, spk)
        got = speaker.from_tensor(ws)
        assert got.count == st.count and np.all(ws[0] == st.count)
        np.testing.assert_allclose(got.sum, st.sum, rtol=1e-5)
        np.testing.assert_allclose(got.sumsq, st.sumsq, rtol=1e-5)
        raw, valid = speaker.raw_window(w, DEFAULTS)
        expect = np.where(valid[:, None], (raw - mean) / std, 0.0)
        np.testing.assert_allclose(x, expect, atol=2e-4)
        assert np.all(x[~valid] == 0.0)
        assert abs(sf - n_speech) <= 1  # float32 graph vs float64 reference at the thresholds
        assert gating.is_speech(sf) == gating.is_speech(n_speech)


def test_count_below_minimum_is_the_single_input_front_end(layer, windows: np.ndarray) -> None:  # noqa: ANN001
    from ser_bnn.nn.frontend import make_frontend_layer

    old = make_frontend_layer(DEFAULTS)(windows).numpy()  # the front end with baked-in default statistics
    st = speaker.window_outputs_reference(windows[0], DEFAULTS)[0]
    few = NormStats(speaker.MIN_STATS_FRAMES - 1, st.sum, st.sumsq)
    enough = NormStats(float(speaker.MIN_STATS_FRAMES), st.sum * 100 / st.count, st.sumsq * 100 / st.count)
    for i, w in enumerate(windows):
        assert np.array_equal(run_layer(layer, w, NormStats.empty(40))[0], old[i])  # count 0: bit-exact
        assert np.array_equal(run_layer(layer, w, few)[0], old[i])
        assert not np.allclose(run_layer(layer, w, enough)[0], old[i], atol=1e-2)


def test_gating_graph_matches_reference_and_refuses_silence_and_noise(layer, windows: np.ndarray) -> None:  # noqa: ANN001
    for w in windows[:2]:  # full windows of speech
        assert gating.is_speech(run_layer(layer, w, NormStats.empty(40))[2])
    for name, w in nonspeech().items():
        _, ws, sf = run_layer(layer, w, NormStats.empty(40))
        raw, valid = speaker.raw_window(w, DEFAULTS)
        assert sf == gating.speech_frames(raw, valid) == 0, name
        assert ws[0, 0] == 300  # the statistics still count every signal frame
    # one item of every family of the detector's non-speech set: the graph is its NumPy reference
    for fam, items in soundsets.nonspeech(seed=2, n=1).items():
        w = segment_waveform(items[0], DEFAULTS)[0]
        raw, valid = speaker.raw_window(w, DEFAULTS)
        sf = run_layer(layer, w, NormStats.empty(40))[2]
        assert abs(sf - gating.speech_frames(raw, valid)) <= 1 and not gating.is_speech(sf), fam
    # the frame rule itself, on hand-made log-Mel frames
    flat = np.full((1, 40), -3.0)
    peaky = np.concatenate([np.full((1, 20), 0.0), np.full((1, 20), -8.0)], axis=1)
    quiet = peaky - 12.0
    raw = np.concatenate([flat, peaky, quiet])
    assert gating.speech_mask(raw, np.ones(3, bool), "energy-flatness").tolist() == [False, True, False]
    assert gating.speech_mask(raw, np.zeros(3, bool), "energy-flatness").tolist() == [False, False, False]
    assert math.isclose(gating.FLATNESS_MAX, math.exp(gating.LOG_FLATNESS_MAX))


def test_tracker_is_causal_gated_and_capped() -> None:
    rng = np.random.default_rng(3)
    frames = rng.normal(-6, 3, size=(400, 40))
    ws = speaker.to_tensor(NormStats.from_frames(frames))[0]
    t = tracker.Tracker.start(40)
    assert not t.update(ws, gating.MIN_CHANGE_FRAMES - 1) and t.stats.count == 0  # not speech: unchanged
    assert t.update(ws, gating.MIN_CHANGE_FRAMES) and t.stats.count == 400
    # a model exported before the "spectral-change" rule: its sidecar's 25 frames
    old = tracker.Tracker.start(40, None, gating.MIN_SPEECH_FRAMES)
    assert old.update(ws, gating.MIN_SPEECH_FRAMES) and not old.update(ws, gating.MIN_SPEECH_FRAMES - 1)
    np.testing.assert_allclose(t.stats.mean(), frames.mean(0), rtol=1e-6)
    k = speaker.COUNT_CAP / 400
    big = NormStats(speaker.COUNT_CAP, t.stats.sum * k, t.stats.sumsq * k)
    t = tracker.Tracker.start(40, big)
    t.update(ws, 300)
    assert t.stats.count == speaker.COUNT_CAP
    np.testing.assert_allclose(t.stats.mean(), frames.mean(0), rtol=1e-6)  # scaling keeps mean and std
    np.testing.assert_allclose(t.stats.std(), frames.std(0), rtol=1e-6)
    assert speaker.norm_params(NormStats.empty(40), DEFAULTS)[2] == "default"


def test_profile_round_trip_and_bad_profiles(tmp_path: Path) -> None:
    st = NormStats.from_frames(np.random.default_rng(4).normal(size=(120, 40)))
    p = tmp_path / "me.json"
    tracker.save_profile(p, st)
    doc = json.loads(p.read_text())
    assert doc["n_mels"] == 40 and doc["version"] == tracker.PROFILE_VERSION and doc["count"] == 120
    back = tracker.load_profile(p, 40)
    assert back.count == st.count and np.array_equal(back.sum, st.sum)
    assert np.array_equal(back.sumsq, st.sumsq)
    cases = {
        "bands": (json.dumps(tracker.profile_dict(st)), 32, "40 Mel bands, the model needs 32"),
        "short": (json.dumps(st.to_dict() | {"sum": [1.0] * 39}), 40, "39 bands"),
        "nan": (json.dumps(tracker.profile_dict(st) | {"sumsq": [float("nan")] * 40}), 40, "NaN"),
        "negative": (json.dumps(tracker.profile_dict(st) | {"count": -5}), 40, "negative count"),
        "text": ("not json at all", 40, "is not JSON"),
        "list": ("[1, 2, 3]", 40, "not a JSON object"),
        "missing": (json.dumps({"count": 3}), 40, "need count, sum and sumsq"),
        "version": (json.dumps(tracker.profile_dict(st) | {"version": 9}), 40, "version 9"),
    }
    for name, (text, n_mels, fragment) in cases.items():
        f = tmp_path / f"{name}.json"
        f.write_text(text)
        with pytest.raises(tracker.ProfileError, match=fragment) as e:
            tracker.load_profile(f, n_mels)
        assert "\n" not in str(e.value) and str(f) in str(e.value)
