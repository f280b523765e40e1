"""Speech gating: which frames and windows hold speech. The constants and a NumPy reference.

The rule is computed once, inside the exported graph (`ser_bnn.export.graph`), from the raw
log-Mel `L[t, b] = log(mel[t, b] + log_offset)` the front end already has; the graph returns the
number of speech frames of each window (`speech_frames`), so Python and Java only compare that
count with the rule's minimum (`min_speech_frames`). The functions below are the NumPy reference
the graph is tested against.

Two rules (`RULES`):

"energy-flatness" (the first gate; still the offline rule of training, see
`FeatureConfig.speech_rule`): a frame t is speech when all of
- it holds signal (not the zero padding of a last window: some sample is non-zero);
- its energy `e_t = mean_b L[t, b]` is above `ENERGY_FLOOR` (an absolute floor: near-silence such
  as a quiet microphone or +-1 LSB dither has e_t = log(log_offset) = -13.8);
- its Mel spectral flatness is below `FLATNESS_MAX`: `f_t = mean_b L[t, b] - log(mean_b exp(L[t, b]))`
  < `LOG_FLATNESS_MAX`. White noise is flat; speech, voiced or not, is not.
A window is speech with at least `MIN_SPEECH_FRAMES` (25) such frames. It passes tones, hum,
chirps, music and coloured noise: they are not flat.

"spectral-change" (`DEPLOYED_RULE`: the exported graph's `speech_frames`, so `ser-bnn predict` and
the app): speech changes the shape of its spectrum all the time (formants, voicing, fricatives), a
tone, hum, a chord, a note or a noise keeps it. A frame t is speech when
- it is speech for "energy-flatness", and its log flatness is above `LOG_FLATNESS_MIN` (not a
  pure tone: energy in one or two Mel bands);
- it is active: `e_t > ENERGY_FLOOR` and `e_t > max_t e_t - ACTIVE_RANGE` (within 17 dB of the
  window's loudest frame);
- the spectral shape changes around it: with `S[t] = L[t] - e_t` smoothed over `SMOOTH_FRAMES`
  frames (centred box, the frames inside the window), `d_t = mean_b |S[t] - S[t - CHANGE_LAG]|`;
  among the pairs (t, t - CHANGE_LAG) with both frames active within `CONTEXT_FRAMES` frames
  centred on t (P pairs), the H pairs with `d > CHANGE_MIN` are more than `CHANGE_SHARE` of them:
  `H * den > P * num` (integers, so NumPy, the graph and the interpreter agree exactly on it).
A window is speech with at least `MIN_CHANGE_FRAMES` (30) such frames.

Calibration: synthetic non-speech (`ser_bnn.data.soundsets`, seed 0) and the Emo-DB training speakers
of the fixed split (clean and mixed with noise); the report on other seeds and the test speakers:
`benchmarks/speech_detector.py`, docs/SPEECH_DETECTOR.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ser_bnn.config import SPEECH_RULES

RULES = SPEECH_RULES  # defined beside the config field that selects one (FeatureConfig.speech_rule)
DEPLOYED_RULE = "spectral-change"
# Mean raw log-Mel over the bands (natural log of Mel power; full-scale white noise: about 0,
# -60 dBFS white noise: about -12.1, digital near-silence: -13.8 = log(1e-6)).
ENERGY_FLOOR = -12.0
# Spectral flatness threshold (geometric / arithmetic mean of the Mel energies): white noise at
# -60..-6 dBFS has log flatness -0.36..-0.04 per frame, Emo-DB frames a median of -3.3.
LOG_FLATNESS_MAX = -0.6
FLATNESS_MAX = math.exp(LOG_FLATNESS_MAX)
# Speech frames a window needs to be speech (25 frames = 0.25 s at a 10 ms hop).
MIN_SPEECH_FRAMES = 25
# "spectral-change" (calibrated with benchmarks/speech_detector.py on seed 0 and training speakers)
# a frame whose Mel energy sits in one or two bands (a pure tone or a sweep; log flatness of a tone
# 50 dB above the other bands: -7.5) is not speech: Emo-DB speech frames have a 1st percentile of -6.9
LOG_FLATNESS_MIN = -7.0
ACTIVE_RANGE = 4.0  # natural log of Mel power: 17 dB below the window's loudest frame
SMOOTH_FRAMES = 5
CHANGE_LAG = 4
CHANGE_MIN = 0.35  # mean absolute change of the band shape (natural log)
CONTEXT_FRAMES = 41
CHANGE_SHARE = (4, 5)  # more than 4/5 of the active pairs around a frame change
MIN_CHANGE_FRAMES = 30


def frame_energy(raw: np.ndarray) -> np.ndarray:
    """[..., T] mean over the bands of raw log-Mel [..., T, n_mels]."""
    return np.asarray(raw, np.float64).mean(axis=-1)


def log_flatness(raw: np.ndarray) -> np.ndarray:
    """[..., T] log of the Mel spectral flatness (geometric / arithmetic mean of exp(raw))."""
    r = np.asarray(raw, np.float64)
    return r.mean(axis=-1) - np.log(np.exp(r).mean(axis=-1))


def _check(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"speech rule must be one of {', '.join(RULES)}, got {rule!r}")


def flat_mask(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """[..., T] the "energy-flatness" frame rule; `valid` [..., T] marks the frames that hold signal."""
    return (
        np.asarray(valid, bool) & (frame_energy(raw) > ENERGY_FLOOR) & (log_flatness(raw) < LOG_FLATNESS_MAX)
    )


def box_sum(x: np.ndarray, width: int) -> np.ndarray:
    """Centred sums over `width` (odd) frames along axis -2 of [..., T, C], zeros outside."""
    h = width // 2
    pad = [(0, 0)] * (x.ndim - 2) + [(h, h), (0, 0)]
    c = np.cumsum(np.pad(x, pad), axis=-2)
    c = np.concatenate([np.zeros_like(c[..., :1, :]), c], axis=-2)
    return c[..., width:, :] - c[..., :-width, :]


def change_counts(raw: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[..., T] active frames, and per frame the changing (H) and active (P) pairs in its context."""
    r = np.asarray(raw, np.float64)
    e = r.mean(axis=-1)
    active = np.asarray(valid, bool) & (e > ENERGY_FLOOR) & (e > e.max(axis=-1, keepdims=True) - ACTIVE_RANGE)
    shape = r - e[..., None]
    n = box_sum(np.ones(shape.shape[:-1] + (1,)), SMOOTH_FRAMES)
    smooth = box_sum(shape, SMOOTH_FRAMES) / n
    lag = CHANGE_LAG
    d = np.abs(smooth[..., lag:, :] - smooth[..., :-lag, :]).mean(axis=-1)
    pair = active[..., lag:] & active[..., :-lag]
    zeros = np.zeros(pair.shape[:-1] + (lag,))
    pair = np.concatenate([zeros, pair], axis=-1)
    change = np.concatenate([zeros, (d > CHANGE_MIN) & pair[..., lag:].astype(bool)], axis=-1)
    h = box_sum(change[..., None].astype(np.float64), CONTEXT_FRAMES)[..., 0]
    p = box_sum(pair[..., None].astype(np.float64), CONTEXT_FRAMES)[..., 0]
    return active, h, p


def speech_mask(raw: np.ndarray, valid: np.ndarray, rule: str = DEPLOYED_RULE) -> np.ndarray:
    """[..., T] True for the speech frames of `rule`; `valid` [..., T] marks the frames that hold signal."""
    _check(rule)
    base = flat_mask(raw, valid)
    if rule == "energy-flatness":
        return base
    active, h, p = change_counts(raw, valid)
    num, den = CHANGE_SHARE
    return base & (log_flatness(raw) > LOG_FLATNESS_MIN) & active & (h * den > p * num)


def speech_frames(raw: np.ndarray, valid: np.ndarray, rule: str = DEPLOYED_RULE) -> np.ndarray:
    """[...] number of speech frames per window (the graph's `speech_frames` output for DEPLOYED_RULE)."""
    return speech_mask(raw, valid, rule).sum(axis=-1)


def min_frames(rule: str = DEPLOYED_RULE) -> int:
    """Speech frames a window needs under `rule`."""
    _check(rule)
    return MIN_SPEECH_FRAMES if rule == "energy-flatness" else MIN_CHANGE_FRAMES


def is_speech(n_speech_frames: float | np.ndarray, rule: str = DEPLOYED_RULE) -> bool | np.ndarray:
    """The window rule: at least `min_frames(rule)` speech frames."""
    return np.asarray(n_speech_frames) >= min_frames(rule)


def describe() -> dict[str, Any]:
    """The deployed gating rule and its constants, as recorded in the sidecar."""
    return {
        "rule": DEPLOYED_RULE,
        "frame_rule": "valid and mean_b(L) > energy_floor and "
        "mean_b(L) - log(mean_b(exp(L))) < log_flatness_max, L = log(mel + log_offset); "
        "and mean_b(L) - log(mean_b(exp(L))) > log_flatness_min and active (mean_b(L) > "
        "max_t mean_b(L) - active_range) and, within context_frames, more than "
        "change_share of the active pairs (t, t - change_lag) change the smoothed band shape by > change_min",
        "energy_floor": ENERGY_FLOOR,
        "log_flatness_max": LOG_FLATNESS_MAX,
        "flatness_max": FLATNESS_MAX,
        "log_flatness_min": LOG_FLATNESS_MIN,
        "active_range": ACTIVE_RANGE,
        "smooth_frames": SMOOTH_FRAMES,
        "change_lag": CHANGE_LAG,
        "change_min": CHANGE_MIN,
        "context_frames": CONTEXT_FRAMES,
        "change_share": list(CHANGE_SHARE),
        "min_speech_frames": MIN_CHANGE_FRAMES,
        "window_rule": "speech_frames >= min_speech_frames",
    }
