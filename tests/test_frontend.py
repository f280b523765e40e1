"""The log-Mel layer against its NumPy/librosa reference, on real Emo-DB audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp.logmel import logmel_reference, mel_matrix
from ser_bnn.dsp.segments import segment_waveform
from ser_bnn.nn.frontend import make_frontend_layer

FILES = ["03a01Fa.wav", "16b10Tb.wav", "14a07Aa.wav", "11b03Wb.wav"]


@pytest.fixture(scope="module")
def waves(emodb_dir):
    return [sf.read(emodb_dir / "wav" / f, dtype="float32")[0] for f in FILES]


GLOBAL = FeatureConfig(
    norm="global", norm_mean=tuple(np.linspace(-5, 0, 40)), norm_std=tuple(np.linspace(2, 4, 40))
)


@pytest.mark.parametrize(
    "cfg",
    [FeatureConfig(standardize=False), FeatureConfig(norm="segment"), GLOBAL],
    ids=["raw", "segment", "global"],
)
def test_layer_matches_reference(waves, cfg):
    layer = make_frontend_layer(cfg)
    worst = 0.0
    for w in waves:
        segs = segment_waveform(w, cfg)
        got = layer(segs).numpy()
        ref = np.stack([logmel_reference(s, cfg) for s in segs])
        assert got.shape == (len(segs), 300, 40)
        worst = max(worst, float(np.abs(got - ref).max()))
    # float32 FFT vs float64 NumPy: measured 7.4e-6 (log-Mel) and 3.5e-6 (standardized)
    assert worst < 5e-5


def test_segment_is_300_frames_and_padding_is_zero(waves, emodb_dir):
    cfg = FeatureConfig(norm="segment")
    short = waves[0][:20000]  # 1.25 s: one segment, mostly padding
    segs = segment_waveform(short, cfg)
    assert segs.shape == (1, 48000)
    feats = make_frontend_layer(cfg)(segs).numpy()[0]
    n_signal = -(-20000 // cfg.hop_length)  # frames that touch signal
    assert np.all(feats[n_signal:] == 0.0)
    sig = feats[:n_signal]
    np.testing.assert_allclose(sig.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(sig.std(axis=0), 1.0, atol=1e-3)


def test_silence_and_loud_noise_are_finite():
    cfg = FeatureConfig(norm="segment")
    layer = make_frontend_layer(cfg)
    x = np.stack(
        [np.zeros(48000, np.float32), np.random.default_rng(0).uniform(-1, 1, 48000).astype(np.float32)]
    )
    out = layer(x).numpy()
    assert np.isfinite(out).all()
    assert np.all(out[0] == 0.0)


def test_mel_matrix_is_librosa_slaney():
    import librosa

    m = mel_matrix(FeatureConfig())
    assert m.shape == (257, 40)
    np.testing.assert_allclose(m.T, librosa.filters.mel(sr=16000, n_fft=512, n_mels=40), rtol=1e-6)


def test_frontend_converts_to_builtin_tflite_ops(waves):
    import larq_compute_engine as lce
    import tf_keras as keras
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    cfg = FeatureConfig(norm="segment")
    inp = keras.Input((cfg.segment_samples,), batch_size=1)
    model = keras.Model(inp, make_frontend_layer(cfg)(inp))
    flat = lce.convert_keras_model(model)
    x = segment_waveform(waves[1], cfg)[:1]
    got = Interpreter(flat).predict(x)
    np.testing.assert_allclose(got, model(x).numpy(), atol=1e-4)


def test_global_norm_stats_come_from_signal_frames(emodb_dir, tmp_path):
    from ser_bnn.data.corpora.base import Utterance
    from ser_bnn.data.features import corpus_segments
    from ser_bnn.data.inputs import global_norm_stats

    utts = [
        Utterance(id=n, path=emodb_dir / "wav" / f"{n}.wav", label="x", speaker=n[:2])
        for n in ("03a01Fa", "16b10Tb")
    ]
    mean, std = global_norm_stats(utts, FeatureConfig(), cache_dir=tmp_path, progress=False)
    assert len(mean) == len(std) == 40 and min(std) > 0
    cfg = FeatureConfig(norm="global", norm_mean=mean, norm_std=std)
    seg = corpus_segments(utts, cfg, cache_dir=tmp_path, progress=False)
    sig = seg.x.reshape(-1, 40)
    sig = sig[np.any(sig != 0, axis=1)]
    np.testing.assert_allclose(sig.mean(axis=0), 0.0, atol=0.02)  # standardized on exactly these frames
    np.testing.assert_allclose(sig.std(axis=0), 1.0, atol=0.02)
