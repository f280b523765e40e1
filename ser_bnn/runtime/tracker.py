"""A speaker's running statistics, as `ser-bnn predict` and the Android app keep them, and profiles.

- Update (`Tracker`): classify each window with the statistics accumulated before it, then, if the
  window is speech (`ser_bnn.dsp.gating`), add its `window_stats`; when the count exceeds
  `COUNT_CAP`, scale count, sum and sumsq down to it (`ser_bnn.dsp.speaker.cap`: mean and std are
  unchanged; older audio weighs less from then on). The tensor layout and the selection rule the
  graph applies are in `ser_bnn.dsp.speaker`.
- Profiles (`load_profile` / `save_profile`): a speaker's statistics as JSON
  (`NormStats.to_dict` plus `n_mels` and `version`), written atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn.atomic import atomic_write_text
from ser_bnn.dsp.gating import min_frames as rule_min_frames
from ser_bnn.dsp.speaker import cap, from_tensor, to_tensor
from ser_bnn.dsp.stats import NormStats
from ser_bnn.errors import DataError

PROFILE_FORMAT = "ser-bnn-speaker-stats"
PROFILE_VERSION = 1


class ProfileError(DataError):
    """A speaker profile cannot be read, or does not fit the model."""


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
