"""Training-time augmentation of standardized log-Mel segments (NumPy, seeded per epoch).

- speed perturbation: the features of every utterance are computed at several speeds (resampled
  audio, `features.corpus_segments(speed=...)`); each epoch draws one speed per utterance
  (`EpochSampler`), so an epoch costs the same as without it;
- gain: a random level change of +-`gain_db` per segment. A gain g multiplies the power
  spectrum, i.e. adds 10 log10(g) dB = ln(10)/10 * dB to every raw log-Mel value; after
  standardization with per-band std s_b that is a shift of ln(10)/10 * dB / s_b on signal frames
  (zero padding stays zero). With per-segment standardization it cancels, so it is skipped there;
- SpecAugment time and frequency masks (masked cells become 0, the standardized mean).
"""

from __future__ import annotations

import numpy as np


class EpochSampler:
    """Training segments of several speed versions of the same utterances, one version per utterance
    and epoch. `versions[k]` is a SegmentSet over the same utterance list (segment counts differ)."""

    def __init__(self, versions: list, labels: np.ndarray) -> None:  # list[SegmentSet]
        self.versions = versions
        self.labels = np.asarray(labels)  # utterance -> class index
        self.by_utt = [
            [np.flatnonzero(v.utt == i) for i in range(len(v.ids))] for v in versions
        ]  # [version][utterance] -> segment indices

    def epoch(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(segments [N, T, F], utterance index [N]) for one epoch, unshuffled."""
        if len(self.versions) == 1:
            v = self.versions[0]
            return v.x, v.utt
        choice = rng.integers(0, len(self.versions), len(self.by_utt[0]))
        xs, us = [], []
        for u, k in enumerate(choice):
            idx = self.by_utt[k][u]
            xs.append(self.versions[k].x[idx])
            us.append(np.full(len(idx), u, np.int32))
        return np.concatenate(xs), np.concatenate(us)


def random_gain(x: np.ndarray, gain_db: float, std: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift signal frames of standardized segments [N, T, F] by a random gain in +-gain_db."""
    db = rng.uniform(-gain_db, gain_db, size=(len(x), 1, 1)).astype(np.float32)
    shift = db * np.float32(np.log(10.0) / 10.0) / np.asarray(std, np.float32)[None, None, :]
    valid = np.any(x != 0.0, axis=-1, keepdims=True)
    return np.where(valid, x + shift, x).astype(np.float32)


def spec_augment(x: np.ndarray, t, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001
    """SpecAugment masks on standardized features: masked cells become 0 (the features' mean)."""
    x = x.copy()
    n, frames, bands = x.shape
    for _ in range(t.time_masks):
        w = rng.integers(0, t.time_mask_frames + 1, n)
        s = rng.integers(0, frames, n)
        idx = np.arange(frames)[None, :]
        x[(idx >= s[:, None]) & (idx < (s + w)[:, None])] = 0.0
    for _ in range(t.freq_masks):
        w = rng.integers(0, t.freq_mask_bands + 1, n)
        s = rng.integers(0, bands, n)
        idx = np.arange(bands)[None, :]
        m = (idx >= s[:, None]) & (idx < (s + w)[:, None])
        x *= ~m[:, None, :]
    return x
