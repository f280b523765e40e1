"""The windows the parity gate runs: held-out test windows, edge inputs, and real speaker statistics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.errors import SerBnnError
from ser_bnn.export.conversion import Run

Log = Callable[[str], None]


def quiet(_: str) -> None:
    """The default `log`: say nothing."""


def edge_inputs(fc: FeatureConfig) -> dict[str, np.ndarray]:
    """Windows that are not speech: digital silence, full-scale noise, a sine, a tone then zeros."""
    n, sr = fc.segment_samples, fc.sample_rate
    t = np.arange(n) / sr
    rng = np.random.default_rng(1234)
    short = np.zeros(n, np.float32)
    short[: sr // 2] = 0.3 * np.sin(2 * np.pi * 220.0 * t[: sr // 2])
    return {
        "silence": np.zeros(n, np.float32),
        "noise_full_scale": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "sine_440hz": (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32),
        "tone_0.5s_then_zeros": short,
    }


def heldout_windows(
    run: Run, data_dir: str | Path | None, max_utterances: int | None = None, log: Log = quiet
) -> tuple[np.ndarray, list[str]]:
    """All 3 s windows of the run's test utterances (split.json) from the corpus on disk."""
    from ser_bnn.data.audio import load_audio
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.dsp.segments import segment_waveform

    ids = list(run.split.get("test", []))
    if not ids:
        raise SerBnnError(f"{run.run_dir}/split.json lists no test utterances")
    if max_utterances:
        ids = ids[:max_utterances]
    corpus = load_corpus(run.cfg.dataset, data_dir, **run.cfg.corpus_options)  # as training read it
    by_id = {u.id: u for u in corpus.utterances}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SerBnnError(
            f"{len(missing)} test utterances of the run are not in the corpus at {corpus.root} "
            f"(e.g. {missing[0]}): pass --data-dir"
        )
    windows, owners = [], []
    for uid in ids:
        w = segment_waveform(load_audio(by_id[uid].path, run.cfg.features.sample_rate), run.cfg.features)
        windows.append(w)
        owners += [uid] * len(w)
    log(f"parity data: {len(windows)} held-out utterances, {len(owners)} windows")
    return np.concatenate(windows), owners


def speaker_stats_for_parity(
    run: Run, windows: np.ndarray, owners: list[str], data_dir: str | Path | None
) -> dict[str, np.ndarray]:
    """{"speaker_ID": [1, 3, n_mels]}: the statistics of the first test speaker's held-out windows
    (NumPy reference of the graph's window statistics, summed as an app would)."""
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.dsp.speaker import to_tensor, window_outputs_reference
    from ser_bnn.dsp.stats import NormStats

    corpus = load_corpus(run.cfg.dataset, data_dir, **run.cfg.corpus_options)
    speaker_of = {u.id: u.speaker for u in corpus.utterances}
    speakers = [speaker_of[o] for o in owners]
    first = sorted(set(speakers))[0]
    stats = NormStats.empty(run.cfg.features.n_mels)
    for w, s in zip(windows, speakers, strict=True):
        if s == first:
            stats = stats + window_outputs_reference(w, run.cfg.features)[0]
    return {f"speaker_{first}": to_tensor(stats)}
