"""Speaker statistics (count, sum, sum of squares) against NumPy, and per-speaker standardization."""

from __future__ import annotations

import numpy as np
import pytest

from ser_bnn.config import FeatureConfig
from ser_bnn.data.inputs import network_inputs
from ser_bnn.dsp.stats import NormStats, signal_mask, standardize, stats_of
from ser_bnn.errors import DataError


def test_stats_match_numpy_and_merge_like_one_pass() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(3.0, 2.0, size=(50, 40)), rng.normal(-1.0, 0.5, size=(70, 40))
    whole = NormStats.from_frames(np.concatenate([a, b]))
    merged = NormStats.from_frames(a) + NormStats.from_frames(b)
    ref = np.concatenate([a, b])
    for st in (whole, merged):
        assert st.count == 120
        np.testing.assert_allclose(st.mean(), ref.mean(0), rtol=1e-12)
        np.testing.assert_allclose(st.std(), ref.std(0), rtol=1e-9)
    assert NormStats.from_frames(np.full((4, 40), 7.0)).std(floor=1e-3).min() == pytest.approx(1e-3)


def test_stats_json_round_trip_and_bad_profiles() -> None:
    st = NormStats.from_frames(np.random.default_rng(1).normal(size=(10, 40)))
    back = NormStats.from_dict(st.to_dict(), 40)
    np.testing.assert_array_equal(back.sum, st.sum)
    with pytest.raises(DataError, match="have 40 bands, the model needs 32"):
        NormStats.from_dict(st.to_dict(), 32)
    # the length of the array that is wrong, whichever it is
    with pytest.raises(DataError, match="have 41 bands, the model needs 40"):
        NormStats.from_dict(st.to_dict() | {"sumsq": [1.0] * 41}, 40)
    with pytest.raises(DataError, match="have 39 bands, the model needs 40"):
        NormStats.from_dict(st.to_dict() | {"sum": [1.0] * 39}, 40)
    with pytest.raises(DataError, match=r"sumsq has shape \[20, 2\], the model needs 40 bands"):
        NormStats.from_dict(st.to_dict() | {"sumsq": [[1.0, 2.0]] * 20}, 40)
    bad = st.to_dict() | {"count": -1}
    with pytest.raises(DataError, match="negative"):
        NormStats.from_dict(bad, 40)
    with pytest.raises(DataError, match="NaN"):
        NormStats.from_dict(st.to_dict() | {"sum": [float("nan")] * 40}, 40)
    with pytest.raises(DataError, match="no signal"):
        NormStats.empty(40).mean()


def test_padding_frames_are_left_out_and_stay_zero() -> None:
    cfg = FeatureConfig()
    raw = np.random.default_rng(2).normal(size=(2, 6, 40)).astype(np.float32)
    raw[1, 4:] = np.log(cfg.log_offset)  # zero padding as the front end writes it
    assert signal_mask(raw, cfg).sum() == 10
    st = stats_of(raw, cfg)
    assert st.count == 10
    out = standardize(raw, st.mean(), st.std(), cfg)
    assert np.all(out[1, 4:] == 0.0)
    sig = out[signal_mask(raw, cfg)]
    np.testing.assert_allclose(sig.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(sig.std(0), 1.0, atol=1e-4)


def test_each_speaker_is_standardized_with_their_own_statistics(emodb_dir, tmp_path) -> None:
    from ser_bnn.data.corpora.base import Utterance

    names = ("03a01Fa", "03a04Wc", "03b10Nc", "16b10Tb", "16a01Lb", "16a01Fc")
    utts = [Utterance(n, emodb_dir / "wav" / f"{n}.wav", "x", n[:2]) for n in names]
    seg = network_inputs(utts, FeatureConfig(norm="speaker"), None, tmp_path, progress=False)
    assert seg.speech is not None and seg.speech.all()  # studio speech: every window holds speech
    for spk in ("03", "16"):
        rows = np.isin(seg.utt, [i for i, u in enumerate(utts) if u.speaker == spk])
        frames = seg.x[rows].reshape(-1, 40)
        frames = frames[np.any(frames != 0.0, axis=1)]
        np.testing.assert_allclose(frames.mean(0), 0.0, atol=1e-3)
        np.testing.assert_allclose(frames.std(0), 1.0, atol=1e-3)
    # the same speaker's segments alone get the same features (statistics use no other speaker)
    alone = network_inputs(utts[:3], FeatureConfig(norm="speaker"), None, tmp_path, progress=False)
    np.testing.assert_allclose(alone.x, seg.x[np.isin(seg.utt, [0, 1, 2])], atol=1e-5)


def test_speaker_statistics_and_pooling_leave_out_windows_without_speech(emodb_dir, tmp_path) -> None:
    """Offline statistics are deployment's: the sum of the NumPy reference's window statistics over
    the speech windows (`speaker.window_outputs_reference`, the rule `ser-bnn predict --speaker-norm`
    applies). A file with 4 s of +-1 LSB dither appended gets a window without speech, which changes
    neither the statistics nor the pooled decision."""
    import soundfile as sf

    from ser_bnn.data.audio import load_audio
    from ser_bnn.data.corpora.base import Utterance
    from ser_bnn.data.inputs import speaker_stats
    from ser_bnn.dsp.gating import is_speech, speech_frames
    from ser_bnn.dsp.segments import segment_waveform
    from ser_bnn.dsp.speaker import raw_window, window_outputs_reference

    cfg = FeatureConfig(norm="speaker")
    rng = np.random.default_rng(0)
    utts = []
    for n in ("03a01Fa", "03b10Nc"):
        wave = load_audio(emodb_dir / "wav" / f"{n}.wav")
        dither = rng.integers(-1, 2, 4 * 16000) / 32768.0
        sf.write(tmp_path / f"{n}.wav", np.concatenate([wave, dither]), 16000, subtype="PCM_16")
        utts.append(Utterance(n, tmp_path / f"{n}.wav", "x", "03"))
    seg = network_inputs(utts, cfg, None, tmp_path, progress=False)
    assert not seg.speech.all() and seg.speech.any()

    want = NormStats.empty(40)
    n_speech = 0
    for u in utts:
        for w in segment_waveform(load_audio(u.path), cfg):
            stats, _ = window_outputs_reference(w, cfg)
            raw, valid = raw_window(w, cfg)  # the offline rule (cfg.speech_rule), not the graph's
            if is_speech(speech_frames(raw, valid, cfg.speech_rule), cfg.speech_rule):
                want, n_speech = want + stats, n_speech + 1
    got = speaker_stats(utts, cfg, tmp_path, progress=False)["03"]
    assert n_speech == int(seg.speech.sum()) and got.count == want.count
    np.testing.assert_allclose(got.mean(), want.mean(), atol=2e-4)
    np.testing.assert_allclose(got.std(), want.std(), atol=2e-4)
    # training keeps the speech segments only
    assert len(seg.speech_only().x) == n_speech and seg.speech_only().speech.all()


def test_evaluation_pools_only_speech_segments() -> None:
    """`evaluate_segments` max-pools the speech segments of each utterance, as `ser-bnn predict`
    does; an utterance without any speech segment pools all of its segments and is counted."""
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.data.features import SegmentSet
    from ser_bnn.training.evaluate import evaluate_segments

    inp = keras.Input((5, 3))
    model = keras.Model(inp, keras.layers.Lambda(lambda x: tf.nn.softmax(10.0 * tf.reduce_mean(x, 1)))(inp))
    x = np.zeros((5, 5, 3), np.float32)
    x[0, :, 0] = x[1, :, 2] = x[2, :, 1] = x[3, :, 2] = x[4, :, 1] = 1.0  # segment i votes for class
    utt = np.array([0, 0, 1, 1, 2], np.int32)  # utterance 0: segments 0, 1; 1: 2, 3; 2: 4
    speech = np.array([True, False, True, True, False])
    labels = ["a", "b", "c"]
    seg = SegmentSet(x, utt, ["u0", "u1", "u2"], speech)
    x[1, :, 2] = 5.0  # the non-speech segment of u0 is the most confident: gating must drop it
    out = evaluate_segments(model, seg, [0, 2, 1], labels)
    assert out["predictions"]["u0"] == "a" and out["n_no_speech"] == 1
    assert out["predictions"]["u2"] == "b"  # no speech segment: pooled over all of them
    ungated = evaluate_segments(model, SegmentSet(x, utt, seg.ids), [0, 2, 1], labels)
    assert ungated["predictions"]["u0"] == "c" and ungated["n_no_speech"] == 0
