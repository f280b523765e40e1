"""Speaker statistics as the exported graph takes them: the tensor layout, the selection rule and the
update rule's cap, with the NumPy references of the graph's per-window outputs.

An exported `norm="speaker"` model takes the speaker's statistics as its second input and returns
the statistics of the window it classified (`ser_bnn.export.graph`); the app keeps the running sum
(`ser_bnn.runtime.tracker`).

- Layout (`to_tensor` / `from_tensor`): float32 [1, 3, n_mels]; row 0 the frame count (the same
  value in every band), row 1 the per-band sum, row 2 the per-band sum of squares of the raw
  log-Mel `log(mel + log_offset)` over the frames that hold signal: a `NormStats`.
- Selection (`norm_params`, the NumPy reference of the graph): fewer than `MIN_STATS_FRAMES`
  frames -> the default statistics baked in from the config (the training speakers' global
  mean / std); else mean = sum / count, std = max(sqrt(max(sumsq / count - mean^2, 0)), std_floor),
  exactly as `NormStats.mean` / `NormStats.std`. Count 0 is the model without speaker statistics.
- Cap (`cap`): when the count exceeds `COUNT_CAP`, count, sum and sumsq are scaled by
  COUNT_CAP / count (mean and std are unchanged; older audio weighs less from then on).
"""

from __future__ import annotations

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp.gating import speech_frames
from ser_bnn.dsp.logmel import logmel_reference, n_frames
from ser_bnn.dsp.stats import NormStats, raw_config

# Frames of statistics needed before a speaker's own are used (100 frames = 1 s of signal).
MIN_STATS_FRAMES = 100


# Cap of the cumulative count (30 000 frames = 5 min of signal): beyond it the statistics are
# scaled down, so that the last minutes of speech keep a weight.
COUNT_CAP = 30000.0


def to_tensor(stats: NormStats) -> np.ndarray:
    """float32 [1, 3, n_mels]: count in every band, per-band sum, per-band sum of squares."""
    n = len(stats.sum)
    return np.stack([np.full(n, stats.count), stats.sum, stats.sumsq]).astype(np.float32)[None]


def from_tensor(t: np.ndarray) -> NormStats:
    """The `NormStats` of a [1, 3, n_mels] (or [3, n_mels]) tensor (float64; count from band 0)."""
    a = np.asarray(t, np.float64).reshape(3, -1)
    return NormStats(float(a[0, 0]), a[1].copy(), a[2].copy())


def norm_params(stats: NormStats, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray, str]:
    """(mean, std, source) the graph standardizes with: "default" or "speaker" statistics."""
    if stats.count < MIN_STATS_FRAMES:
        return np.array(cfg.norm_mean, np.float64), np.array(cfg.norm_std, np.float64), "default"
    return stats.mean(), stats.std(cfg.std_floor), "speaker"


def cap(stats: NormStats, limit: float = COUNT_CAP) -> NormStats:
    """Scale count, sum and sumsq by limit / count when count > limit."""
    if stats.count <= limit:
        return stats
    k = limit / stats.count
    return NormStats(limit, stats.sum * k, stats.sumsq * k)


def raw_window(wave: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of the graph's raw log-Mel [T, n_mels] (float64) and signal mask [T] of a window."""
    wave = np.asarray(wave, np.float32).reshape(-1)
    raw = logmel_reference(wave, raw_config(cfg))
    t = n_frames(len(wave), cfg)
    padded = np.zeros((t - 1) * cfg.hop_length + cfg.win_length, np.float32)
    padded[: len(wave)] = wave
    starts = np.arange(t) * cfg.hop_length
    peak = np.array([np.abs(padded[s : s + cfg.win_length]).max() for s in starts])
    return raw, peak > 0


def window_outputs_reference(wave: np.ndarray, cfg: FeatureConfig) -> tuple[NormStats, int]:
    """NumPy reference of the graph's `window_stats` and `speech_frames` for one window."""
    raw, valid = raw_window(wave, cfg)
    return NormStats.from_frames(raw[valid]), int(speech_frames(raw, valid))
