"""Segment features for a corpus, computed with the front-end layer and cached on disk.

The cache key covers the feature parameters, the segment hop and every file's path, size and
modification time, so a cache built with other parameters or other files is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ser_bnn.atomic import atomic_write
from ser_bnn.config import FeatureConfig
from ser_bnn.data.audio import load_audio
from ser_bnn.dsp.segments import segment_waveform

CACHE_VERSION = 2  # bump when the front end's computation changes
_BATCH = 32


@dataclass
class SegmentSet:
    """Segments of a list of utterances: `x[i]` belongs to utterance `utt[i]` (index into `ids`)."""
    x: np.ndarray  # [N, frames, n_mels] float32
    utt: np.ndarray  # [N] int32
    ids: list[str]
    # [N] bool: the segment holds speech (`ser_bnn.dsp.gating`'s window rule), as deployment decides it;
    # None: not computed (every segment counts)
    speech: np.ndarray | None = None

    def select(self, ids: Sequence[str]) -> SegmentSet:
        """Segments of the given utterances, re-indexed in the given order."""
        pos = {u: i for i, u in enumerate(self.ids)}
        missing = [u for u in ids if u not in pos]
        if missing:
            raise KeyError(f"utterances not in feature set: {missing[:3]}")
        parts_x, parts_u, parts_s = [], [], []
        for new_i, u in enumerate(ids):
            m = self.utt == pos[u]
            parts_x.append(self.x[m])
            parts_u.append(np.full(int(m.sum()), new_i, np.int32))
            if self.speech is not None:
                parts_s.append(self.speech[m])
        speech = np.concatenate(parts_s) if self.speech is not None else None
        return SegmentSet(np.concatenate(parts_x), np.concatenate(parts_u), list(ids), speech)

    def speech_only(self) -> SegmentSet:
        """The segments that hold speech (all of them when `speech` is None); `ids` unchanged."""
        if self.speech is None:
            return self
        m = self.speech
        return SegmentSet(self.x[m], self.utt[m], self.ids, self.speech[m])


def default_cache_dir() -> Path:
    env = os.environ.get("SER_BNN_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ser-bnn"


def cache_key(
    paths: Sequence[Path], ids: Sequence[str], cfg: FeatureConfig, hop_frames: int, speed: float = 1.0
) -> str:
    h = hashlib.sha256()
    cfg_key = asdict(cfg)
    cfg_key.pop("speech_rule")  # the cache holds front-end output, which the speech rule does not change
    key = {"v": CACHE_VERSION, "cfg": cfg_key, "hop": hop_frames}
    if speed != 1.0:
        key["speed"] = speed
    h.update(json.dumps(key, sort_keys=True).encode())
    for uid, p in zip(ids, paths, strict=True):
        st = Path(p).stat()
        h.update(f"{uid}\0{Path(p).resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def compute_segments(
    waves: Sequence[np.ndarray], cfg: FeatureConfig, hop_frames: int, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Run the front end on every segment of every waveform: ([N, frames, mels], utt index [N])."""
    from ser_bnn.nn.frontend import make_frontend_layer

    layer = make_frontend_layer(cfg)
    windows, owner = [], []
    for i, w in enumerate(waves):
        s = segment_waveform(w, cfg, hop_frames)
        windows.append(s)
        owner.append(np.full(len(s), i, np.int32))
    allw = np.concatenate(windows)
    out = np.empty((len(allw), cfg.segment_frames, cfg.n_mels), np.float32)
    batches = range(0, len(allw), _BATCH)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="log-Mel", unit="batch", leave=False)
    for b in batches:
        out[b : b + _BATCH] = layer(allw[b : b + _BATCH]).numpy()
    return out, np.concatenate(owner)


def corpus_segments(
    utterances: Sequence,  # Sequence[Utterance]
    cfg: FeatureConfig,
    hop_frames: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    use_cache: bool = True,
    speed: float = 1.0,
) -> SegmentSet:
    """Features of every segment of `utterances`, read from or written to the cache.

    `speed` != 1 plays the audio that much faster (resampled: tempo and pitch change together,
    the usual speed perturbation for augmentation).
    """
    hop = hop_frames or cfg.segment_hop_frames
    ids = [u.id for u in utterances]
    paths = [Path(u.path) for u in utterances]
    key = cache_key(paths, ids, cfg, hop, speed)
    cache_file = (cache_dir or default_cache_dir()) / f"segments-{key[:24]}.npz"
    if use_cache and cache_file.is_file():
        try:
            with np.load(cache_file, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    return SegmentSet(z["x"], z["utt"], [str(i) for i in z["ids"]])
        except (OSError, ValueError, KeyError):
            pass  # unreadable cache: recompute and overwrite
    it = paths
    if progress:
        from tqdm import tqdm

        it = tqdm(paths, desc="audio", unit="file", leave=False)
    waves = [load_audio(p, cfg.sample_rate) for p in it]
    if speed != 1.0:
        import soxr

        waves = [soxr.resample(w, cfg.sample_rate * speed, cfg.sample_rate).astype(np.float32) for w in waves]
    x, utt = compute_segments(waves, cfg, hop, progress=progress)
    if use_cache:

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, x=x, utt=utt, ids=np.array(ids), key=np.array(key))

        atomic_write(cache_file, write)
    return SegmentSet(x, utt, ids)
