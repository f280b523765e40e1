from __future__ import annotations

import numpy as np
import pytest

from ser_bnn.config import FeatureConfig
from ser_bnn.metrics import pool_utterances
from ser_bnn.segments import max_pool_posteriors, segment_waveform, window_starts


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
    np.testing.assert_array_equal(max_pool_posteriors(post[:2]), [0.7, 0.8, 0.1])
    pooled = pool_utterances(post, np.array([0, 0, 1]), 2)
    np.testing.assert_array_equal(pooled, [[0.7, 0.8, 0.1], [0.3, 0.3, 0.4]])
    with pytest.raises(ValueError):
        pool_utterances(post, np.array([0, 0, 0]), 2)
