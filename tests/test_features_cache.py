"""The feature cache: reused when valid, never when parameters or files changed."""

from __future__ import annotations

import os
import shutil

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.data.corpora.base import Utterance
from ser_bnn.data.features import corpus_segments

NAMES = ["03a01Fa", "03a02Nc", "16b10Tb"]


def _utts(root):
    return [Utterance(id=n, path=root / f"{n}.wav", label="x", speaker=n[:2]) for n in NAMES]


def test_cache_hit_miss_and_staleness(emodb_dir, tmp_path):
    data = tmp_path / "wav"
    data.mkdir()
    for n in NAMES:
        shutil.copy(emodb_dir / "wav" / f"{n}.wav", data / f"{n}.wav")
    cache = tmp_path / "cache"
    cfg = FeatureConfig(norm="segment")
    first = corpus_segments(_utts(data), cfg, cache_dir=cache, progress=False)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 1
    assert first.x.shape[1:] == (300, 40) and len(first.ids) == 3
    assert np.bincount(first.utt).min() >= 1

    # a hit reads the file: poison it with the right key and see the poison come back
    with np.load(files[0]) as z:
        poisoned = {k: z[k] for k in z.files}
    poisoned["x"] = poisoned["x"] + 1.0
    with open(files[0], "wb") as f:
        np.savez(f, **poisoned)
    again = corpus_segments(_utts(data), cfg, cache_dir=cache, progress=False)
    np.testing.assert_allclose(again.x, first.x + 1.0)

    # other parameters -> other cache entry, recomputed
    other = corpus_segments(
        _utts(data), FeatureConfig(n_mels=32, norm="segment"), cache_dir=cache, progress=False
    )
    assert other.x.shape[2] == 32 and len(list(cache.glob("*.npz"))) == 2

    # a changed file -> recomputed (different content, different mtime/size)
    os.replace(data / "16b10Tb.wav", data / "tmp.wav")
    shutil.copy(emodb_dir / "wav" / "03a04Wc.wav", data / "16b10Tb.wav")
    changed = corpus_segments(_utts(data), cfg, cache_dir=cache, progress=False)
    assert not np.allclose(changed.x[changed.utt == 2][0], first.x[first.utt == 2][0])
    np.testing.assert_allclose(changed.x[changed.utt == 0], first.x[first.utt == 0])

    # a corrupt cache file is ignored and rewritten
    for f in cache.glob("*.npz"):
        f.write_bytes(b"garbage")
    fresh = corpus_segments(_utts(data), cfg, cache_dir=cache, progress=False)
    np.testing.assert_allclose(fresh.x, changed.x)


def test_select_reorders(emodb_dir, tmp_path):
    seg = corpus_segments(
        _utts(emodb_dir / "wav"), FeatureConfig(norm="segment"), cache_dir=tmp_path, progress=False
    )
    sub = seg.select(["16b10Tb", "03a01Fa"])
    assert sub.ids == ["16b10Tb", "03a01Fa"]
    np.testing.assert_array_equal(sub.x[sub.utt == 1], seg.x[seg.utt == 0])
