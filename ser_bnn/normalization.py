"""Log-Mel standardization statistics, and the network inputs of a list of utterances.

`NormStats` is the one object behind every standardization mode: per-band count, sum and sum of
squares over the frames that hold signal (not the zero padding of a last segment). It is
mergeable (`+`), so it can be accumulated window by window (online, as a phone would) or over a
speaker's whole audio (offline), and serialised as JSON.

`network_inputs` gives the standardized segments that the model sees, for every `norm`:
- `segment` and `global`: computed inside the front-end layer (fixed statistics baked in);
- `speaker`: raw log-Mel from the front-end layer, then each speaker standardized with their own
  statistics over all their audio. This uses no labels, so test speakers are standardized the
  same way (the paper's "online standardization ... to reduce the influence of speaker variation").

Speech gating is applied as deployment applies it (`ser-bnn predict --speaker-norm`,
`ser_bnn.gating`): a speaker's statistics are those of the signal frames of their 3 s windows
(non-overlapping) that hold speech, with the default statistics when fewer than
`online.MIN_STATS_FRAMES` frames remain, and every segment carries its speech decision
(`SegmentSet.speech`): training uses only speech segments, evaluation pools only over them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ser_bnn.config import FeatureConfig
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
    from ser_bnn.gating import is_speech, speech_frames

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


def speaker_stats(
    utterances: Sequence, cfg: FeatureConfig, cache_dir: Path | None = None, progress: bool = True, speed=1.0
) -> dict[str, NormStats]:
    """{speaker: statistics over the signal frames of their non-overlapping windows that hold speech},
    the statistics `ser-bnn predict --speaker-norm` accumulates from the same files."""
    from ser_bnn.features import corpus_segments

    seg = corpus_segments(utterances, raw_config(cfg), None, cache_dir, progress, speed=speed)
    speakers = np.array([utterances[i].speaker for i in seg.utt])
    speech = speech_windows(seg.x, cfg)
    return {s: stats_of(seg.x[(speakers == s) & speech], cfg) for s in sorted(set(speakers))}


def network_inputs(
    utterances: Sequence,
    cfg: FeatureConfig,
    hop_frames: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    speed: float = 1.0,
):  # noqa: ANN201 - SegmentSet
    """Standardized segments of `utterances`, as the model sees them, for any `cfg.norm`."""
    from ser_bnn.features import SegmentSet, corpus_segments
    from ser_bnn.online import norm_params

    raw = corpus_segments(utterances, raw_config(cfg), hop_frames, cache_dir, progress, speed=speed)
    speech = speech_windows(raw.x, cfg)
    if cfg.norm != "speaker" or not cfg.standardize:
        seg = corpus_segments(utterances, cfg, hop_frames, cache_dir, progress, speed=speed)
        return SegmentSet(seg.x, seg.utt, seg.ids, speech)
    stats = speaker_stats(utterances, cfg, cache_dir, progress, speed=speed)
    speakers = np.array([utterances[i].speaker for i in raw.utt])
    x = np.empty_like(raw.x)
    for s, st in stats.items():
        m = speakers == s
        # the default statistics below MIN_STATS_FRAMES, as deployed
        mean, std, _ = norm_params(st, cfg) if cfg.norm_mean else (st.mean(), st.std(cfg.std_floor), "")
        x[m] = standardize(raw.x[m], mean, std, cfg)
    return SegmentSet(x, raw.utt, raw.ids, speech)
