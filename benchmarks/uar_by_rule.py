"""Streaming and `--speaker-norm` UAR of a trained run on Emo-DB speakers, per speech rule.

Used by benchmarks/speech_detector.py (`--run`). The modes are those of `ser-bnn predict`
(benchmarks/online_norm.py), computed with the run's Keras network on the NumPy reference of the
exported front end (`ser_bnn.runtime.tracker`: raw log-Mel, window statistics, `norm_params`, `cap`; the
export's parity gate holds the flatbuffer to this within 1e-3 per class):
- `--speaker-norm`: every window of a speaker standardized with the (capped) statistics of their
  speech windows;
- streaming: each speaker's files in sorted order from count 0, each window standardized with
  the statistics of the speech windows before it.
Windows are cut as `predict` cuts them (3 s, no overlap, the last one zero-padded, all-zero windows
left out); a window's speech decision is its rule's (`ser_bnn.dsp.gating`, NumPy reference); an
utterance pools its speech windows' posteriors with the run's rule; "no speech" counts as wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ser_bnn.dsp import gating, speaker
from ser_bnn.dsp.stats import NormStats


def _windows(path: Path, fc) -> list[tuple[np.ndarray, np.ndarray, NormStats]]:  # noqa: ANN001
    from ser_bnn.data.audio import load_audio
    from ser_bnn.dsp.segments import segment_waveform

    out = []
    for w in segment_waveform(load_audio(path, fc.sample_rate), fc):
        if np.any(w != 0):
            raw, valid = speaker.raw_window(w, fc)
            out.append((raw, valid, NormStats.from_frames(raw[valid])))
    return out


def _input(raw: np.ndarray, valid: np.ndarray, stats: NormStats, fc) -> np.ndarray:  # noqa: ANN001
    mean, std, _ = speaker.norm_params(stats, fc)
    return np.where(valid[:, None], (raw - mean) / std, 0.0).astype(np.float32)


def uar_by_rule(run_dir: Path, data_dir: Path, speakers: tuple[str, ...]) -> dict:
    from online_norm import uar

    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.dsp.segments import pool_posteriors
    from ser_bnn.training.evaluate import predict_segments
    from ser_bnn.training.rundir import load_trained

    model, cfg = load_trained(run_dir)
    fc, labels = cfg.features, list(cfg.labels)
    if fc.norm != "speaker":
        raise SystemExit(f"{run_dir}: norm is {fc.norm!r}, not 'speaker'")
    utts = sorted((u for u in load_corpus("emodb", data_dir).utterances if u.speaker in speakers),
                  key=lambda u: u.id)
    truth = {u.id: u.label for u in utts}
    wins = {u.id: _windows(u.path, fc) for u in utts}
    res: dict = {}
    for rule in gating.RULES:
        speech = {i: [bool(gating.is_speech(gating.speech_frames(r, v, rule), rule)) for r, v, _ in ws]
                  for i, ws in wins.items()}
        xs, keys = [], []  # (mode, utterance) of every speech window's input
        for spk in speakers:
            ids = [u.id for u in utts if u.speaker == spk]
            fixed = NormStats.empty(fc.n_mels)
            for i in ids:
                for (_, _, st), s in zip(wins[i], speech[i], strict=True):
                    fixed = speaker.cap(fixed + st) if s else fixed
            running = NormStats.empty(fc.n_mels)
            for i in ids:
                for (raw, valid, st), s in zip(wins[i], speech[i], strict=True):
                    if s:
                        xs += [_input(raw, valid, fixed, fc), _input(raw, valid, running, fc)]
                        keys += [("speaker_norm", i), ("streaming", i)]
                        running = speaker.cap(running + st)
        post = predict_segments(model, np.stack(xs)) if xs else np.zeros((0, len(labels)))
        res[rule] = {"speech_windows": int(sum(map(sum, speech.values())))}
        for mode in ("speaker_norm", "streaming"):
            dec: dict[str, str | None] = {}
            for i in truth:
                p = [post[k] for k, key in enumerate(keys) if key == (mode, i)]
                pooled = pool_posteriors(np.stack(p), cfg.model.pooling) if p else None
                dec[i] = None if pooled is None else labels[int(np.argmax(pooled))]
            res[rule][mode] = uar(dec, truth, labels)
    res["windows"] = sum(len(v) for v in wins.values())
    res["utterances"] = len(utts)
    res["run"] = Path(run_dir).name
    res["pooling"] = cfg.model.pooling
    return res
