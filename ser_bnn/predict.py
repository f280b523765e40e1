"""Classify audio files with an exported .tflite, without TensorFlow.

Pipeline per file (the same as training and evaluation):

1. read any format libsndfile reads (wav, flac, ogg, mp3 with libsndfile >= 1.1), mix to mono,
   resample to the model's rate (16 kHz) - `ser_bnn.audio.load_audio`;
2. cut into windows of `window_samples` (3 s) every `hop` samples (default: the sidecar's hop,
   3 s = no overlap, as in evaluation); the last window is zero-padded; a file shorter than a
   window is one zero-padded window;
3. run each window through the model (LCE's interpreter, loaded without TensorFlow);
4. max-pool the window posteriors per class (paper, section 4.2); the emotion is the argmax.

Decisions:
- The printed scores are the max-pooled vector renormalised to sum to 1. The raw max-pooled
  vector does not sum to 1 (each entry is a different window's maximum); both are in `--json`
  (`scores` and `pooled_max`), with the per-window posteriors. The argmax is the same.
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
from ser_bnn.errors import AudioError, SerBnnError
from ser_bnn.export.artifact import read_description
from ser_bnn.interpreter import LceInterpreter
from ser_bnn.segments import window_starts

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
    if interp.input_shape != expected_in:
        raise SerBnnError(
            f"{interp_name}: input shape {interp.input_shape} is not "
            f"{expected_in} ({kind} model per {source}): not a ser-bnn model or wrong sidecar"
        )
    if interp.output_shape != (1, len(labels)):
        raise SerBnnError(
            f"{interp_name}: output shape {interp.output_shape} does not fit "
            f"{len(labels)} labels from {source}"
        )
    if len(set(labels)) != len(labels) or not all(labels):
        raise SerBnnError(f"{interp_name}: labels from {source} are empty or repeated")
    window = int(desc.get("window_samples", features.segment_samples))
    hop = int(desc.get("hop_samples", features.segment_hop_samples))
    if window != features.segment_samples or hop <= 0:
        raise SerBnnError(f"{interp_name}: inconsistent window/hop in {source}")
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
    )


def cut_windows(wave: np.ndarray, window: int, hop: int) -> tuple[np.ndarray, list[int]]:
    """Windows [n, window] (last zero-padded) and their start samples; see `ser_bnn.segments`."""
    starts = window_starts(len(wave), window, hop)
    out = np.zeros((len(starts), window), np.float32)
    for i, s in enumerate(starts):
        chunk = wave[s : s + window]
        out[i, : len(chunk)] = chunk
    return out, starts


def window_posteriors(model: DeployedModel, windows: np.ndarray) -> np.ndarray:
    """[n, n_classes] probabilities for waveform windows."""
    if model.input_kind == "waveform":
        return model.interpreter.predict(windows)
    from ser_bnn.frontend import logmel_reference  # NumPy/librosa: no TensorFlow

    feats = np.stack([logmel_reference(w, model.features) for w in windows]).astype(np.float32)
    return model.interpreter.predict(feats)


def predict_file(model: DeployedModel, path: str | Path, hop_samples: int | None = None) -> dict[str, Any]:
    """Classify one file; raises AudioError (one line) for unusable input."""
    from ser_bnn.audio import load_audio

    path = Path(path)
    wave = load_audio(path, model.sample_rate)
    seconds = len(wave) / model.sample_rate
    if seconds < MIN_SECONDS:
        raise AudioError(f"{path}: too short ({seconds:.3f} s; need at least {MIN_SECONDS} s)")
    if not np.any(wave):
        raise AudioError(f"{path}: no signal (every sample is zero), nothing to classify")
    hop = hop_samples or model.hop_samples
    windows, starts = cut_windows(wave, model.window_samples, hop)
    keep = np.any(windows != 0, axis=1)  # drop windows of pure digital silence
    post = window_posteriors(model, windows[keep])
    pooled = post.max(axis=0)
    scores = pooled / pooled.sum()
    best = int(np.argmax(pooled))
    notes = []
    if seconds < SHORT_NOTE_SECONDS:
        notes.append(f"short input ({seconds:.2f} s): the model was trained on utterances of 1.2 s and more")
    if not keep.all():
        notes.append(f"{int((~keep).sum())} silent window(s) left out of the pooling")
    return {
        "file": str(path),
        "emotion": model.labels[best],
        "scores": {lab: float(s) for lab, s in zip(model.labels, scores, strict=True)},
        "pooled_max": {lab: float(s) for lab, s in zip(model.labels, pooled, strict=True)},
        "duration_s": round(seconds, 3),
        "window_starts": [s for s, k in zip(starts, keep, strict=True) if k],
        "window_posteriors": [[float(v) for v in row] for row in post],
        "notes": notes,
    }


def format_table(results: list[dict[str, Any]], labels: list[str]) -> str:
    """One row per file: emotion, then the renormalised max-pooled scores per class."""
    if not results:
        return ""
    fw = max(len("file"), *(len(r["file"]) for r in results))
    ew = max(len("emotion"), *(len(lab) for lab in labels))
    cw = [max(5, len(lab)) for lab in labels]
    cols = "  ".join(f"{lab:>{w}}" for lab, w in zip(labels, cw, strict=True))
    lines = [f"{'file':<{fw}}  {'emotion':<{ew}}  {cols}"]
    for r in results:
        vals = "  ".join(f"{r['scores'][lab]:>{w}.3f}" for lab, w in zip(labels, cw, strict=True))
        lines.append(f"{r['file']:<{fw}}  {r['emotion']:<{ew}}  {vals}")
    return "\n".join(lines)
