"""Classify audio files with an exported .tflite, without TensorFlow.

Pipeline per file (the same as training and evaluation):

1. read any format libsndfile reads (wav, flac, ogg, mp3 with libsndfile >= 1.1), mix to mono,
   resample to the model's rate (16 kHz) - `ser_bnn.data.audio.load_audio`;
2. cut into windows of `window_samples` (3 s) every `hop` samples (default: the sidecar's hop,
   3 s = no overlap, as in evaluation); the last window is zero-padded; a file shorter than a
   window is one zero-padded window;
3. run each window through the model (LCE's interpreter, loaded without TensorFlow) with the
   speaker statistics of the mode (`norm="speaker"` models; `ser_bnn.runtime.tracker`):
   - streaming (default): each file starts from the profile, or from count 0 (the default
     statistics); each window is classified with the statistics accumulated before it, then its
     `window_stats` are added if it is speech (capped: `speaker.COUNT_CAP`) - what an app does;
   - speaker (`--speaker-norm`): all files are one speaker; pass 1 sums the speech windows'
     `window_stats` over every file (non-overlapping windows), pass 2 classifies every window
     with those statistics (the offline standardization of training and evaluation);
4. speech gating (`ser_bnn.dsp.gating`, computed inside the graph): windows with fewer than the
   sidecar's `gating.min_speech_frames` speech frames are not classified and do not update the statistics; a
   file without a speech window reports "no speech", never an emotion;
5. pool the posteriors of the speech windows per class with the sidecar's rule (`pooling`:
   "max", paper section 4.2, or "mean-log", their geometric mean; `ser_bnn.dsp.segments`); the
   emotion is the argmax.

Decisions:
- The printed scores are the pooled vector renormalised to sum to 1. The raw pooled vector does
  not sum to 1 (with "max" each entry is a different window's maximum); both are in `--json`
  (`scores` and `pooled`, with `pooling` and, whatever the rule, the per-class maximum
  `pooled_max`), with the per-window posteriors. The argmax of `scores` and `pooled` is the same.
- Windows that are digital silence (every sample exactly 0, e.g. a 3 s pause in a long file)
  carry no information and are left out of the pooling. A file whose samples are all zero is
  an error ("no signal"): any emotion printed for it would be the network's bias, not a result.
- A file shorter than `MIN_SECONDS` (0.1 s = 10 analysis frames) is an error: the per-window
  standardization needs frames to estimate its statistics. Files shorter than 1 s are
  classified with a note (Emo-DB's shortest utterance is 1.2 s).
- Every bad file (missing, empty, truncated, not audio, too short, silent) gives one line on
  stderr (`ser-bnn predict: error: FILE: reason`); the other files are still classified and
  the exit code is 2, as for every error of the CLI. A bad model (not a TFLite file, corrupt,
  SHA-256 different from its sidecar, no labels) stops before any file, also with exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp import speaker
from ser_bnn.dsp.gating import min_frames
from ser_bnn.dsp.logmel import logmel_reference
from ser_bnn.dsp.segments import POOLINGS, pool_posteriors, window_starts
from ser_bnn.dsp.stats import NormStats
from ser_bnn.errors import AudioError, SerBnnError
from ser_bnn.runtime.interpreter import LceInterpreter
from ser_bnn.runtime.roles import Roles, WindowOutput, find_roles, invoke
from ser_bnn.runtime.sidecar import read_description
from ser_bnn.runtime.tracker import Tracker

MIN_SECONDS = 0.1
SHORT_NOTE_SECONDS = 1.0


@dataclass
class DeployedModel:
    """A .tflite plus what it needs to be used: labels, front-end parameters, windowing."""

    path: Path
    interpreter: LceInterpreter
    labels: list[str]
    features: FeatureConfig
    input_kind: str  # "waveform" or "logmel"
    window_samples: int
    hop_samples: int
    description_source: str  # "sidecar", "embedded metadata" or "labels.txt"
    description: dict[str, Any] = field(default_factory=dict)
    roles: Roles | None = None
    pooling: str = "max"  # the sidecar's rule (`ser_bnn.dsp.segments.pool_posteriors`)

    @property
    def takes_stats(self) -> bool:
        """Whether windows are standardized with speaker statistics (graph input or NumPy)."""
        f = self.features
        if self.input_kind == "logmel":
            return f.standardize and f.norm == "speaker" and bool(f.norm_mean)
        return self.roles is not None and self.roles.speaker_stats is not None

    @property
    def gated(self) -> bool:
        """Whether the model reports speech frames (waveform models since the statistics interface;
        log-Mel models through the NumPy reference)."""
        return self.input_kind == "logmel" or (self.roles is not None and self.roles.gated)

    @property
    def min_speech_frames(self) -> float:
        """Speech frames a window needs: the sidecar's `gating.min_speech_frames` (models exported
        before the "spectral-change" rule count "energy-flatness" frames and record 25)."""
        g = self.description.get("gating") or {}
        rule = g.get("rule", "energy-flatness")
        return float(g.get("min_speech_frames", min_frames(rule)))

    @property
    def sample_rate(self) -> int:
        return self.features.sample_rate


def load_deployed(path: str | Path, num_threads: int = 1, fast: bool = False) -> DeployedModel:
    """Load MODEL.tflite with its description: MODEL.json sidecar, else the metadata embedded by
    `ser-bnn export`, else MODEL.labels.txt (then the input must be a waveform, default front end)."""
    path = Path(path)
    if not path.is_file():
        raise SerBnnError(f"model not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SerBnnError(f"cannot read model {path}: {e.strerror or e}") from None
    desc, source = read_description(path, data)
    try:
        labels = [str(s) for s in desc["labels"]]
        kind = str(desc.get("input", {}).get("kind", "waveform"))
        features = FeatureConfig(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in desc.get("features", {}).items()}
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise SerBnnError(f"{path}: invalid model description in {source} ({e})") from None
    if kind not in ("waveform", "logmel"):
        raise SerBnnError(f"{path}: unknown input kind {kind!r} in {source}")
    # `fast` is XNNPACK for the float ops only: LCE 0.16's indirect BGEMM kernels give wrong outputs
    # for the binary projections inside the LSTM loops from the second invocation on.
    interp = LceInterpreter(data, num_threads=num_threads, use_xnnpack=fast)
    interp_name = str(path)
    expected_in = (
        (1, features.segment_samples) if kind == "waveform" else (1, features.segment_frames, features.n_mels)
    )
    roles = find_roles(
        interp.input_shapes,
        interp.output_shapes,
        expected_in,
        len(labels),
        features.n_mels,
        f"{interp_name} ({kind} model per {source})",
    )
    if kind == "logmel" and (roles.speaker_stats is not None or roles.gated):
        raise SerBnnError(f"{interp_name}: a log-Mel model has one input and one output")
    if len(set(labels)) != len(labels) or not all(labels):
        raise SerBnnError(f"{interp_name}: labels from {source} are empty or repeated")
    window = int(desc.get("window_samples", features.segment_samples))
    hop = int(desc.get("hop_samples", features.segment_hop_samples))
    if window != features.segment_samples or hop <= 0:
        raise SerBnnError(f"{interp_name}: inconsistent window/hop in {source}")
    pooling = str(desc.get("pooling", "max"))
    if pooling not in POOLINGS:
        raise SerBnnError(f"{interp_name}: unknown pooling {pooling!r} in {source}")
    return DeployedModel(
        path=path,
        interpreter=interp,
        labels=labels,
        features=features,
        input_kind=kind,
        window_samples=window,
        hop_samples=hop,
        description_source=source,
        description=desc,
        roles=roles,
        pooling=pooling,
    )


def cut_windows(wave: np.ndarray, window: int, hop: int) -> tuple[np.ndarray, list[int]]:
    """Windows [n, window] (last zero-padded) and their start samples; see `ser_bnn.dsp.segments`."""
    starts = window_starts(len(wave), window, hop)
    out = np.zeros((len(starts), window), np.float32)
    for i, s in enumerate(starts):
        chunk = wave[s : s + window]
        out[i, : len(chunk)] = chunk
    return out, starts


def window_output(model: DeployedModel, window: np.ndarray, stats: NormStats | None) -> WindowOutput:
    """One waveform window through the model, standardized with `stats` (None: count 0)."""
    if model.roles is None:  # an interpreter stand-in without tensor roles: probabilities only
        return WindowOutput(model.interpreter.predict(np.asarray(window, np.float32)[None])[0])
    if model.input_kind == "waveform":
        tensor = None if stats is None else speaker.to_tensor(stats)
        return invoke(model.interpreter, model.roles, window, tensor)
    # log-Mel model: the NumPy reference front end, statistics and gating (no TensorFlow)
    raw, valid = speaker.raw_window(window, model.features)
    wstats, n_speech = speaker.window_outputs_reference(window, model.features)
    if model.takes_stats and stats is not None and stats.count >= speaker.MIN_STATS_FRAMES:
        mean, std, _ = speaker.norm_params(stats, model.features)
        x = np.where(valid[:, None], (raw - mean) / std, 0.0).astype(np.float32)
    else:
        x = logmel_reference(window, model.features).astype(np.float32)
    probs = model.interpreter.run(x[None])[0]
    return WindowOutput(probs, speaker.to_tensor(wstats)[0], float(n_speech))


def window_posteriors(model: DeployedModel, windows: np.ndarray) -> np.ndarray:
    """[n, n_classes] probabilities for waveform windows with the default statistics (count 0)."""
    if len(windows) == 0:
        return np.zeros((0, len(model.labels)), np.float32)
    return np.stack([window_output(model, w, None).probabilities for w in windows])


def read_windows(
    model: DeployedModel, path: str | Path, hop: int
) -> tuple[np.ndarray, list[int], float, int]:
    """A file's windows (digital-silence windows dropped), their starts, the duration in seconds and
    the number of dropped windows; AudioError (one line) for unusable input."""
    from ser_bnn.data.audio import load_audio

    path = Path(path)
    wave = load_audio(path, model.sample_rate)
    seconds = len(wave) / model.sample_rate
    if seconds < MIN_SECONDS:
        raise AudioError(f"{path}: too short ({seconds:.3f} s; need at least {MIN_SECONDS} s)")
    if not np.any(wave):
        raise AudioError(f"{path}: no signal (every sample is zero), nothing to classify")
    windows, starts = cut_windows(wave, model.window_samples, hop)
    keep = np.any(windows != 0, axis=1)  # drop windows of pure digital silence
    return windows[keep], [s for s, k in zip(starts, keep, strict=True) if k], seconds, int((~keep).sum())


def speaker_statistics(
    model: DeployedModel, paths: list[str], start: NormStats | None = None
) -> tuple[NormStats, list[dict[str, str]]]:
    """Pass 1 of `--speaker-norm`: `start` plus the window statistics of every speech window of
    every file (non-overlapping windows, capped as in streaming). Returns (stats, errors)."""
    tracker = Tracker.start(model.features.n_mels, start, model.min_speech_frames)
    errors = []
    for p in paths:
        try:
            windows, _, _, _ = read_windows(model, p, model.window_samples)
        except SerBnnError as e:
            errors.append({"file": str(p), "error": str(e)})
            continue
        for w in windows:
            out = window_output(model, w, None)
            tracker.update(out.window_stats, out.speech_frames)
    return tracker.stats, errors


def predict_file(
    model: DeployedModel,
    path: str | Path,
    hop_samples: int | None = None,
    tracker: Tracker | None = None,
    fixed: NormStats | None = None,
    also: Tracker | None = None,
) -> dict[str, Any]:
    """Classify one file; raises AudioError (one line) for unusable input.

    Statistics: `fixed` for every window (`--speaker-norm`), else the streaming `tracker` (updated
    in place; None: a new one from count 0), see the module docstring. `also`: a second tracker that
    gets the same updates (the profile of `--profile`).
    """
    path = Path(path)
    hop = hop_samples or model.hop_samples
    windows, starts, seconds, silent = read_windows(model, path, hop)
    if tracker is None and fixed is None:
        tracker = Tracker.start(model.features.n_mels, None, model.min_speech_frames)
    rows, post = [], []
    for start, w in zip(starts, windows, strict=True):
        stats = fixed if fixed is not None else tracker.stats
        out = window_output(model, w, stats if model.takes_stats else None)
        speech = True if out.speech_frames is None else bool(out.speech_frames >= model.min_speech_frames)
        row: dict[str, Any] = {"start": start, "speech": speech}
        if out.speech_frames is not None:
            row["speech_frames"] = int(round(out.speech_frames))
        if model.takes_stats:
            _, _, source = speaker.norm_params(stats, model.features)
            row["stats_count"] = float(stats.count)
            row["stats_source"] = source
        row["posteriors"] = [float(v) for v in out.probabilities] if speech else None
        if speech:
            post.append(out.probabilities)
            if fixed is None and out.window_stats is not None:
                tracker.update(out.window_stats, out.speech_frames)
                if also is not None:
                    also.update(out.window_stats, out.speech_frames)
        rows.append(row)
    notes = []
    if seconds < SHORT_NOTE_SECONDS:
        notes.append(f"short input ({seconds:.2f} s): the model was trained on utterances of 1.2 s and more")
    if silent:
        notes.append(f"{silent} silent window(s) left out of the pooling")
    result: dict[str, Any] = {"file": str(path), "duration_s": round(seconds, 3)}
    if not post:
        result.update(emotion=None, status="no speech", pooling=model.pooling, scores=None, pooled=None)
        result["pooled_max"] = None
    else:
        p = np.stack(post)
        pooled = pool_posteriors(p, model.pooling)
        scores = pooled / pooled.sum()
        result.update(
            emotion=model.labels[int(np.argmax(pooled))],
            status="ok",
            pooling=model.pooling,
            scores={lab: float(s) for lab, s in zip(model.labels, scores, strict=True)},
            pooled={lab: float(s) for lab, s in zip(model.labels, pooled, strict=True)},
            pooled_max={lab: float(s) for lab, s in zip(model.labels, p.max(axis=0), strict=True)},
        )
        skipped = sum(not r["speech"] for r in rows)
        if skipped:
            notes.append(f"{skipped} window(s) without speech left out of the pooling")
    result.update(
        window_starts=[r["start"] for r in rows if r["speech"]],
        window_posteriors=[r["posteriors"] for r in rows if r["speech"]],
        windows=rows,
        notes=notes,
    )
    if tracker is not None and model.takes_stats:
        result["stats_after"] = {"count": float(tracker.stats.count)}
    return result


def format_table(results: list[dict[str, Any]], labels: list[str]) -> str:
    """One row per file: emotion, then the renormalised pooled scores per class."""
    if not results:
        return ""
    fw = max(len("file"), *(len(r["file"]) for r in results))
    ew = max(len("emotion"), *(len(lab) for lab in labels))
    cw = [max(5, len(lab)) for lab in labels]
    cols = "  ".join(f"{lab:>{w}}" for lab, w in zip(labels, cw, strict=True))
    lines = [f"{'file':<{fw}}  {'emotion':<{ew}}  {cols}"]
    ew = max(ew, len("no speech"))
    lines[0] = f"{'file':<{fw}}  {'emotion':<{ew}}  {cols}"
    for r in results:
        if r["emotion"] is None:
            vals = "  ".join(f"{'-':>{w}}" for w in cw)
            lines.append(f"{r['file']:<{fw}}  {r['status']:<{ew}}  {vals}")
            continue
        vals = "  ".join(f"{r['scores'][lab]:>{w}.3f}" for lab, w in zip(labels, cw, strict=True))
        lines.append(f"{r['file']:<{fw}}  {r['emotion']:<{ew}}  {vals}")
    return "\n".join(lines)
