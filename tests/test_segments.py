from __future__ import annotations

import numpy as np
import pytest

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp.segments import pool_posteriors, segment_waveform, window_starts
from ser_bnn.training.metrics import pool_utterances


@pytest.mark.parametrize(
    ("n", "hop", "starts"),
    [
        (100, 300, [0]),
        (300, 300, [0]),
        (301, 300, [0, 300]),
        (900, 300, [0, 300, 600]),
        (950, 300, [0, 300, 600, 900]),
        (450, 100, [0, 100, 200]),
    ],
)
def test_window_starts(n, hop, starts):
    assert window_starts(n, 300, hop) == starts


def test_segments_cover_the_waveform_and_pad_with_zeros():
    cfg = FeatureConfig()
    w = np.arange(1, 100_001, dtype=np.float32)
    segs = segment_waveform(w, cfg)
    assert segs.shape == (3, 48000)
    np.testing.assert_array_equal(segs[:2].reshape(-1), w[:96000])
    np.testing.assert_array_equal(segs[2, :4000], w[96000:])
    assert not segs[2, 4000:].any()


def test_max_pooling_per_utterance():
    post = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(pool_posteriors(post[:2], "max"), [0.7, 0.8, 0.1])
    pooled = pool_utterances(post, np.array([0, 0, 1]), 2)
    np.testing.assert_array_equal(pooled, [[0.7, 0.8, 0.1], [0.3, 0.3, 0.4]])
    with pytest.raises(ValueError):
        pool_utterances(post, np.array([0, 0, 0]), 2)


def test_mean_log_pooling_is_the_geometric_mean():
    post = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(pool_posteriors(post[:2], "mean-log"), np.sqrt(post[0] * post[1]))
    three = np.array([[0.7, 0.25, 0.05], [0.7, 0.25, 0.05], [0.25, 0.72, 0.03]])
    assert np.argmax(pool_posteriors(three, "max")) == 1  # one confident window decides
    assert np.argmax(pool_posteriors(three, "mean-log")) == 0  # two agreeing windows decide
    # a zero posterior is floored, not -inf
    assert np.isfinite(pool_posteriors(post[3:], "mean-log")).all()
    utt = np.array([0, 1, 0, 1])
    for rule in ("max", "mean-log"):
        got = pool_utterances(post, utt, 2, rule)
        for u in (0, 1):
            np.testing.assert_allclose(got[u], pool_posteriors(post[utt == u], rule), rtol=1e-12)
    with pytest.raises(ValueError, match="pooling"):
        pool_posteriors(post, "median")
    with pytest.raises(ValueError, match="pooling"):
        pool_utterances(post, utt, 2, "median")
