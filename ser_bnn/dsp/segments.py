"""Cut a 16 kHz waveform into fixed-length windows (NumPy only: used by training and by predict).

A segment of `segment_frames` frames is exactly `segment_frames * hop_length` samples: the
front end frames with `pad_end`, so 48 000 samples give 300 frames. The last window is
zero-padded; the front end recognises exactly-zero frames as padding and leaves them out of
the standardization statistics (they become zero features, as in the paper's zero padding).
"""

from __future__ import annotations

import numpy as np

from ser_bnn.config import FeatureConfig


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Start offsets of windows covering `n_samples` (at least one window)."""
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] + window < n_samples:
        starts.append(starts[-1] + hop)  # last, zero-padded window covers the tail
    return starts


def segment_waveform(wave: np.ndarray, cfg: FeatureConfig, hop_frames: int | None = None) -> np.ndarray:
    """Return float32 windows [n_segments, segment_samples], the last zero-padded."""
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    window = cfg.segment_samples
    hop = (hop_frames if hop_frames is not None else cfg.segment_hop_frames) * cfg.hop_length
    starts = window_starts(len(wave), window, hop)
    out = np.zeros((len(starts), window), dtype=np.float32)
    for i, s in enumerate(starts):
        chunk = wave[s : s + window]
        out[i, : len(chunk)] = chunk
    return out


POOLINGS = ("max", "mean-log")
LOG_FLOOR = 1e-7  # posteriors are floored here before the log of "mean-log"


def pool_posteriors(posteriors: np.ndarray, pooling: str) -> np.ndarray:
    """One utterance's scores from its segment posteriors [n_segments, n_classes].

    "max" (paper): the per-class maximum over segments. "mean-log": exp of the per-class mean of
    log(max(p, LOG_FLOOR)), the geometric mean (the product rule: segments as independent
    evidence). The decision is the argmax either way; neither vector sums to 1.
    """
    p = np.asarray(posteriors, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"expected [n_segments, n_classes] posteriors, got shape {p.shape}")
    if pooling == "max":
        return p.max(axis=0)
    if pooling == "mean-log":
        return np.exp(np.log(np.maximum(p, LOG_FLOOR)).mean(axis=0))
    raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
