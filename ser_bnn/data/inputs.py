"""The network inputs of a list of utterances: standardized segments, as the model sees them.

`network_inputs` gives them for every `norm`:
- `segment` and `global`: computed inside the front-end layer (fixed statistics baked in);
- `speaker`: raw log-Mel from the front-end layer, then each speaker standardized with their own
  statistics over all their audio. This uses no labels, so test speakers are standardized the
  same way (the paper's "online standardization ... to reduce the influence of speaker variation").

Speech gating is applied as deployment applies it (`ser-bnn predict --speaker-norm`,
`ser_bnn.dsp.gating`): a speaker's statistics are those of the signal frames of their 3 s windows
(non-overlapping) that hold speech, with the default statistics when fewer than
`ser_bnn.dsp.speaker.MIN_STATS_FRAMES` frames remain, and every segment carries its speech decision
(`SegmentSet.speech`): training uses only speech segments, evaluation pools only over them.
`global_norm_stats` estimates the fixed statistics of `global` (and the default ones of `speaker`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.data.features import SegmentSet, corpus_segments
from ser_bnn.dsp.speaker import norm_params
from ser_bnn.dsp.stats import NormStats, raw_config, speech_windows, standardize, stats_of


def global_norm_stats(
    utterances: Sequence, cfg: FeatureConfig, cache_dir: Path | None = None, progress: bool = True
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-band mean and standard deviation of the raw log-Mel over all frames holding signal."""
    seg = corpus_segments(utterances, raw_config(cfg), None, cache_dir, progress)
    st = stats_of(seg.x, cfg)
    mean, std = st.mean(), st.std(cfg.std_floor)
    return tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std)


def speaker_stats(
    utterances: Sequence, cfg: FeatureConfig, cache_dir: Path | None = None, progress: bool = True, speed=1.0
) -> dict[str, NormStats]:
    """{speaker: statistics over the signal frames of their non-overlapping windows that hold speech},
    the statistics `ser-bnn predict --speaker-norm` accumulates from the same files."""
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
