"""Streaming and `--speaker-norm` UAR of an exported model on Emo-DB speakers, per speech rule.

Used by benchmarks/speech_detector.py (`--model`). The flatbuffer gives the probabilities and the
window statistics; a window's speech decision comes from the rule: "spectral-change" is the
model's own `speech_frames` output (what `ser-bnn predict` and the app use), "energy-flatness"
its NumPy reference on the window's raw log-Mel. The modes are those of `ser-bnn predict`
(benchmarks/online_norm.py): `--speaker-norm` standardizes every window of a speaker with the
statistics of their speech windows; streaming goes through each speaker's files in sorted order,
each window classified with the statistics of the speech windows before it (from count 0).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ser_bnn import gating, online
from ser_bnn.online import raw_window


def _windows(model, path: str) -> list[dict]:  # noqa: ANN001 - DeployedModel
    """Per window: waveform, window statistics and the speech decision of each rule."""
    from ser_bnn.predict import read_windows, window_output

    windows, _, _, _ = read_windows(model, path, model.window_samples)
    out = []
    for w in windows:
        o = window_output(model, w, None)
        raw, valid = raw_window(w, model.features)
        old = gating.speech_frames(raw, valid, "energy-flatness")
        out.append({
            "wave": w, "window_stats": o.window_stats,
            "energy-flatness": bool(gating.is_speech(old, "energy-flatness")),
            "spectral-change": bool(o.speech_frames >= model.min_speech_frames),
        })
    return out


def _decide(model, posts: list[np.ndarray]) -> str | None:  # noqa: ANN001
    from ser_bnn.segments import pool_posteriors

    if not posts:
        return None
    return model.labels[int(np.argmax(pool_posteriors(np.stack(posts), model.pooling)))]


def uar_by_rule(model_path: Path, data_dir: Path, speakers: tuple[str, ...]) -> dict:
    from online_norm import uar

    from ser_bnn.corpora import load_corpus
    from ser_bnn.predict import load_deployed, window_output

    model = load_deployed(model_path)
    if not model.takes_stats:
        raise SystemExit(f"{model_path} takes no speaker statistics")
    corpus = load_corpus("emodb", data_dir)
    utts = sorted((u for u in corpus.utterances if u.speaker in speakers), key=lambda u: u.id)
    truth = {u.id: u.label for u in utts}
    wins = {u.id: _windows(model, str(u.path)) for u in utts}
    n = model.features.n_mels
    res = {}
    for rule in gating.RULES:
        modes: dict[str, dict[str, str | None]] = {"speaker_norm": {}, "streaming": {}}
        windows_speech = 0
        for spk in speakers:
            ids = [u.id for u in utts if u.speaker == spk]
            # trackers with min_frames 0: the rule's decision is taken here, update() only adds and caps
            fixed = online.Tracker.start(n, None, 0)
            for i in ids:
                for w in wins[i]:
                    if w[rule]:
                        fixed.update(w["window_stats"], 1)
            tracker = online.Tracker.start(n, None, 0)
            for i in ids:
                p_fixed, p_stream = [], []
                for w in wins[i]:
                    if not w[rule]:
                        continue
                    windows_speech += 1
                    p_fixed.append(window_output(model, w["wave"], fixed.stats).probabilities)
                    o = window_output(model, w["wave"], tracker.stats)
                    p_stream.append(o.probabilities)
                    tracker.update(o.window_stats, 1)
                modes["speaker_norm"][i] = _decide(model, p_fixed)
                modes["streaming"][i] = _decide(model, p_stream)
        res[rule] = {k: uar(v, truth, model.labels) for k, v in modes.items()}
        res[rule]["speech_windows"] = windows_speech
    res["windows"] = sum(len(v) for v in wins.values())
    res["utterances"] = len(utts)
    res["model_sha256"] = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    return res
