"""Speaker statistics (count, sum, sum of squares) against NumPy, and per-speaker standardization."""

from __future__ import annotations

import numpy as np
import pytest

from ser_bnn.config import FeatureConfig
from ser_bnn.errors import DataError
from ser_bnn.normalization import NormStats, network_inputs, signal_mask, standardize, stats_of


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
    from ser_bnn.corpora.base import Utterance

    names = ("03a01Fa", "03a04Wc", "03b10Nc", "16b10Tb", "16a01Lb", "16a01Fc")
    utts = [Utterance(n, emodb_dir / "wav" / f"{n}.wav", "x", n[:2]) for n in names]
    seg = network_inputs(utts, FeatureConfig(norm="speaker"), None, tmp_path, progress=False)
    for spk in ("03", "16"):
        rows = np.isin(seg.utt, [i for i, u in enumerate(utts) if u.speaker == spk])
        frames = seg.x[rows].reshape(-1, 40)
        frames = frames[np.any(frames != 0.0, axis=1)]
        np.testing.assert_allclose(frames.mean(0), 0.0, atol=1e-3)
        np.testing.assert_allclose(frames.std(0), 1.0, atol=1e-3)
    # the same speaker's segments alone get the same features (statistics use no other speaker)
    alone = network_inputs(utts[:3], FeatureConfig(norm="speaker"), None, tmp_path, progress=False)
    np.testing.assert_allclose(alone.x, seg.x[np.isin(seg.utt, [0, 1, 2])], atol=1e-5)
