"""Speech gating: which frames and windows hold speech. The constants and a NumPy reference.

The rule is computed once, inside the exported graph (`ser_bnn.export.graph`), from the raw
log-Mel `L[t, b] = log(mel[t, b] + log_offset)` the front end already has; the graph returns the
number of speech frames of each window (`speech_frames`), so Python and Java only compare that
count with `MIN_SPEECH_FRAMES`. `speech_frames` below is the NumPy reference the graph is tested
against.

A frame t is speech when all of:
- it holds signal (not the zero padding of a last window: some sample is non-zero);
- its energy `e_t = mean_b L[t, b]` is above `ENERGY_FLOOR` (an absolute floor: near-silence such
  as a quiet microphone or +-1 LSB dither has e_t = log(log_offset) = -13.8);
- its Mel spectral flatness is below `FLATNESS_MAX`: the geometric over the arithmetic mean of the
  Mel energies `mel + log_offset`, computed in the log domain as
  `f_t = mean_b L[t, b] - log(mean_b exp(L[t, b]))` < `LOG_FLATNESS_MAX` (= log FLATNESS_MAX).
  White noise is flat (Slaney Mel bands have unit area, so it has the same energy in every band:
  flatness near 1); speech, voiced or not, is not.

A window is speech when it has at least `MIN_SPEECH_FRAMES` speech frames. Windows without speech
are not classified and do not update the speaker statistics; a file (or stream) without any
speech window reports "no speech".

Calibration (`benchmarks/gating_calibration.py`, Emo-DB and synthetic non-speech): see the
constants' comments and deploy/INTEGRATION.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Mean raw log-Mel over the bands (natural log of Mel power; full-scale white noise: about 0,
# -60 dBFS white noise: about -12.1, digital near-silence: -13.8 = log(1e-6)).
ENERGY_FLOOR = -12.0
# Spectral flatness threshold (geometric / arithmetic mean of the Mel energies): white noise at
# -60..-6 dBFS has log flatness -0.36..-0.04 per frame, Emo-DB frames a median of -3.3.
LOG_FLATNESS_MAX = -0.6
FLATNESS_MAX = math.exp(LOG_FLATNESS_MAX)
# Speech frames a window needs to be speech (25 frames = 0.25 s at a 10 ms hop).
MIN_SPEECH_FRAMES = 25


def frame_energy(raw: np.ndarray) -> np.ndarray:
    """[..., T] mean over the bands of raw log-Mel [..., T, n_mels]."""
    return np.asarray(raw, np.float64).mean(axis=-1)


def log_flatness(raw: np.ndarray) -> np.ndarray:
    """[..., T] log of the Mel spectral flatness (geometric / arithmetic mean of exp(raw))."""
    r = np.asarray(raw, np.float64)
    return r.mean(axis=-1) - np.log(np.exp(r).mean(axis=-1))


def speech_mask(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """[..., T] True for speech frames; `valid` [..., T] marks the frames that hold signal."""
    return (
        np.asarray(valid, bool) & (frame_energy(raw) > ENERGY_FLOOR) & (log_flatness(raw) < LOG_FLATNESS_MAX)
    )


def speech_frames(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """[...] number of speech frames per window (the graph's `speech_frames` output)."""
    return speech_mask(raw, valid).sum(axis=-1)


def is_speech(n_speech_frames: float | np.ndarray) -> bool | np.ndarray:
    """The window rule: at least `MIN_SPEECH_FRAMES` speech frames."""
    return np.asarray(n_speech_frames) >= MIN_SPEECH_FRAMES


def describe() -> dict[str, Any]:
    """The gating rule and its constants, as recorded in the sidecar."""
    return {
        "frame_rule": "valid and mean_b(L) > energy_floor and "
        "mean_b(L) - log(mean_b(exp(L))) < log_flatness_max, L = log(mel + log_offset)",
        "energy_floor": ENERGY_FLOOR,
        "log_flatness_max": LOG_FLATNESS_MAX,
        "flatness_max": FLATNESS_MAX,
        "min_speech_frames": MIN_SPEECH_FRAMES,
        "window_rule": "speech_frames >= min_speech_frames",
    }
