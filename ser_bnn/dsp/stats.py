"""Log-Mel standardization statistics and their NumPy helpers.

`NormStats` is the one object behind every standardization mode: per-band count, sum and sum of
squares over the frames that hold signal (not the zero padding of a last segment). It is
mergeable (`+`), so it can be accumulated window by window (online, as a phone would) or over a
speaker's whole audio (offline), and serialised as JSON. `standardize` applies a mean and standard
deviation as the front-end layer does; `speech_windows` is the gating rule (`ser_bnn.dsp.gating`)
over raw log-Mel windows. `ser_bnn.data.inputs` builds the network inputs with them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp.gating import is_speech, speech_frames
from ser_bnn.errors import DataError


@dataclass(frozen=True)
class NormStats:
    """Per-band count, sum and sum of squares of raw log-Mel frames (float64)."""
    count: float
    sum: np.ndarray  # [n_mels]
    sumsq: np.ndarray  # [n_mels]

    @classmethod
    def empty(cls, n_mels: int) -> NormStats:
        return cls(0.0, np.zeros(n_mels), np.zeros(n_mels))

    @classmethod
    def from_frames(cls, frames: np.ndarray) -> NormStats:
        """Statistics of raw log-Mel frames [..., n_mels] that are all signal."""
        f = np.asarray(frames, np.float64).reshape(-1, np.shape(frames)[-1])
        return cls(float(len(f)), f.sum(axis=0), np.square(f).sum(axis=0))

    def __add__(self, other: NormStats) -> NormStats:
        return NormStats(self.count + other.count, self.sum + other.sum, self.sumsq + other.sumsq)

    def mean(self) -> np.ndarray:
        if self.count <= 0:
            raise DataError("no signal frames to compute statistics from")
        return self.sum / self.count

    def std(self, floor: float = 1e-3) -> np.ndarray:
        var = np.maximum(self.sumsq / max(self.count, 1.0) - np.square(self.mean()), 0.0)
        return np.maximum(np.sqrt(var), floor)

    def to_dict(self) -> dict:
        return {"count": self.count, "sum": self.sum.tolist(), "sumsq": self.sumsq.tolist()}

    @classmethod
    def from_dict(cls, d: dict, n_mels: int) -> NormStats:
        """Parse and check (band count, finite values, non-negative count)."""
        try:
            count, s, sq = float(d["count"]), np.asarray(d["sum"], float), np.asarray(d["sumsq"], float)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"statistics need count, sum and sumsq: {e}") from None
        for name, a in (("sum", s), ("sumsq", sq)):  # the length of the one that is wrong
            if a.ndim != 1:
                shape = list(a.shape)
                raise DataError(f"statistics {name} has shape {shape}, the model needs {n_mels} bands")
            if a.size != n_mels:
                raise DataError(f"statistics have {a.size} bands, the model needs {n_mels}")
        if not (math.isfinite(count) and np.isfinite(s).all() and np.isfinite(sq).all()):
            raise DataError("statistics contain NaN or infinity")
        if count < 0 or (sq < 0).any():
            raise DataError("statistics have a negative count or sum of squares")
        return cls(count, s, sq)


def padding_value(cfg: FeatureConfig) -> np.float32:
    """Raw log-Mel of an all-zero frame: log(log_offset) in every band."""
    return np.float32(np.log(cfg.log_offset))


def signal_mask(raw: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """[..., frames] True where a raw log-Mel frame holds signal (is not zero padding)."""
    return np.any(raw != padding_value(cfg), axis=-1)


def stats_of(raw: np.ndarray, cfg: FeatureConfig) -> NormStats:
    """Statistics of the signal frames of raw log-Mel segments [N, frames, n_mels]."""
    return NormStats.from_frames(raw[signal_mask(raw, cfg)])


def speech_windows(raw: np.ndarray, cfg: FeatureConfig, chunk: int = 256) -> np.ndarray:
    """[N] True for the raw log-Mel windows [N, frames, n_mels] that hold speech (`cfg.speech_rule`)."""
    out = np.zeros(len(raw), bool)
    for i in range(0, len(raw), chunk):  # the rule works in float64: bound its memory
        r = raw[i : i + chunk]
        rule = cfg.speech_rule
        out[i : i + chunk] = is_speech(speech_frames(r, signal_mask(r, cfg), rule), rule)
    return out


def standardize(raw: np.ndarray, mean: np.ndarray, std: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """(raw - mean) / std on signal frames, 0 on padding frames (as the front-end layer does)."""
    valid = signal_mask(raw, cfg)[..., None]
    out = (raw - mean.astype(np.float32)) / std.astype(np.float32)
    return np.where(valid, out, np.float32(0.0)).astype(np.float32)


def raw_config(cfg: FeatureConfig) -> FeatureConfig:
    """The same front end without standardization."""
    return dataclasses.replace(cfg, standardize=False, norm="segment", norm_mean=(), norm_std=())
