"""Online speaker statistics: the tensor layout, the in-graph selection rule, the update rule, profiles.

An exported `norm="speaker"` model takes the speaker's statistics as its second input and returns
the statistics of the window it classified (`ser_bnn.export.graph`); the app keeps the running sum.

- Layout (`to_tensor` / `from_tensor`): float32 [1, 3, n_mels]; row 0 the frame count (the same
  value in every band), row 1 the per-band sum, row 2 the per-band sum of squares of the raw
  log-Mel `log(mel + log_offset)` over the frames that hold signal: a `NormStats`.
- Selection (`norm_params`, the NumPy reference of the graph): fewer than `MIN_STATS_FRAMES`
  frames -> the default statistics baked in from the config (the training speakers' global
  mean / std); else mean = sum / count, std = max(sqrt(max(sumsq / count - mean^2, 0)), std_floor),
  exactly as `NormStats.mean` / `NormStats.std`. Count 0 is the model without speaker statistics.
- Update (`Tracker`, what `ser-bnn predict` and the Android app do): classify each window with the
  statistics accumulated before it, then, if the window is speech (`ser_bnn.gating`), add its
  `window_stats`; when the count exceeds `COUNT_CAP`, scale count, sum and sumsq by COUNT_CAP / count
  (mean and std are unchanged; older audio weighs less from then on).
- Profiles (`load_profile` / `save_profile`): a speaker's statistics as JSON
  (`NormStats.to_dict` plus `n_mels` and `version`), written atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.errors import DataError
from ser_bnn.gating import min_frames as rule_min_frames
from ser_bnn.io import atomic_write_text
from ser_bnn.normalization import NormStats

# Frames of statistics needed before a speaker's own are used (100 frames = 1 s of signal).
MIN_STATS_FRAMES = 100
# Cap of the cumulative count (30 000 frames = 5 min of signal): beyond it the statistics are
# scaled down, so that the last minutes of speech keep a weight.
COUNT_CAP = 30000.0
PROFILE_FORMAT = "ser-bnn-speaker-stats"
PROFILE_VERSION = 1


class ProfileError(DataError):
    """A speaker profile cannot be read, or does not fit the model."""


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


@dataclass
class Tracker:
    """A speaker's running statistics under the streaming rule (causal, gated, capped)."""

    stats: NormStats
    history: list[dict[str, Any]] = field(default_factory=list)
    # speech frames a window needs (the model's sidecar `gating.min_speech_frames`)
    min_frames: float = float(rule_min_frames())

    @classmethod
    def start(cls, n_mels: int, stats: NormStats | None = None, min_frames: float | None = None) -> Tracker:
        t = cls(stats if stats is not None else NormStats.empty(n_mels))
        if min_frames is not None:
            t.min_frames = float(min_frames)
        return t

    def tensor(self) -> np.ndarray:
        """The model's `speaker_stats` input for the next window."""
        return to_tensor(self.stats)

    def update(self, window_stats: np.ndarray, speech_frames: float) -> bool:
        """Add a classified window's statistics if it is speech; returns whether it was."""
        speech = bool(speech_frames >= self.min_frames)
        if speech:
            self.stats = cap(self.stats + from_tensor(window_stats))
        return speech


def raw_window(wave: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of the graph's raw log-Mel [T, n_mels] (float64) and signal mask [T] of a window."""
    from ser_bnn.frontend import logmel_reference, n_frames
    from ser_bnn.normalization import raw_config

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
    from ser_bnn.gating import speech_frames

    raw, valid = raw_window(wave, cfg)
    return NormStats.from_frames(raw[valid]), int(speech_frames(raw, valid))


def profile_dict(stats: NormStats) -> dict[str, Any]:
    return {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "n_mels": len(stats.sum),
        **stats.to_dict(),
    }


def load_profile(path: str | Path, n_mels: int) -> NormStats:
    """A saved speaker profile, checked against the model's band count (one-line errors)."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except OSError as e:
        raise ProfileError(f"cannot read profile {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProfileError(f"profile {path} is not JSON") from None
    if not isinstance(d, dict):
        raise ProfileError(f"profile {path} is not a JSON object")
    if d.get("version", PROFILE_VERSION) != PROFILE_VERSION:
        raise ProfileError(f"profile {path} has version {d.get('version')!r}, expected {PROFILE_VERSION}")
    if "n_mels" in d and d["n_mels"] != n_mels:
        raise ProfileError(f"profile {path} has {d['n_mels']} Mel bands, the model needs {n_mels}")
    try:
        return NormStats.from_dict(d, n_mels)
    except DataError as e:
        raise ProfileError(f"profile {path}: {e}") from None


def save_profile(path: str | Path, stats: NormStats) -> None:
    atomic_write_text(Path(path), json.dumps(profile_dict(stats), indent=1) + "\n")
