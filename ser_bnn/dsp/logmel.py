"""The log-Mel front end in NumPy/librosa: the definition `ser_bnn.nn.frontend.LogMelFrontEnd` (the
Keras layer that training caches features with and export puts in the flatbuffer) is tested against.

1. frames of `win_length` samples every `hop_length` samples, the end zero-padded, so a
   window of `segment_frames * hop_length` samples gives exactly `segment_frames` frames;
2. periodic Hamming window, zero-padded to `n_fft`, power spectrum |rfft|^2;
3. Slaney Mel filterbank (librosa's), `n_mels` bands; `log(mel + log_offset)`;
4. standardization per Mel band, either online (`norm="segment"`: each segment's own mean and
   standard deviation over the frames that hold signal) or with fixed statistics estimated on
   the training speakers (`norm="global"`, and the default statistics of `norm="speaker"`,
   stored in the config so export bakes them in; `ser_bnn.data.inputs` applies a speaker's own);
   frames that are exactly zero (the zero padding of the last segment) are left out of the
   statistics and set to 0 afterwards, i.e. padded with zeros in the standardized domain.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.errors import ConfigError

# Norms the layer applies with the fixed `norm_mean` / `norm_std` of the config: "global", and
# "speaker" with its default statistics (a speaker's own statistics are applied outside the layer).
FIXED_STATS_NORMS = ("global", "speaker")


@lru_cache(maxsize=8)
def mel_matrix(cfg: FeatureConfig) -> np.ndarray:
    """Slaney-normalized Mel filterbank as [n_fft//2+1, n_mels] float32 (librosa's definition)."""
    import librosa

    m = librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, htk=False
    )
    return np.ascontiguousarray(m.T.astype(np.float32))


@lru_cache(maxsize=8)
def sparse_mel(cfg: FeatureConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The Mel matrix as per-bin (band index, weight) slots; unused slots point at band n_mels."""
    m = mel_matrix(cfg)
    slots = int((m > 0).sum(axis=1).max())
    ids = np.full((slots, m.shape[0]), cfg.n_mels, np.int32)
    weights = np.zeros((slots, m.shape[0]), np.float32)
    for k in range(m.shape[0]):
        for j, band in enumerate(np.nonzero(m[k])[0]):
            ids[j, k], weights[j, k] = band, m[k, band]
    return list(ids), list(weights)


def hamming(cfg: FeatureConfig) -> np.ndarray:
    """Periodic Hamming window (scipy `get_window('hamming', N)`, TF `hamming_window(periodic=True)`)."""
    n = np.arange(cfg.win_length)
    return (0.54 - 0.46 * np.cos(2 * np.pi * n / cfg.win_length)).astype(np.float32)


def n_frames(n_samples: int, cfg: FeatureConfig) -> int:
    return -(-n_samples // cfg.hop_length)


def logmel_reference(wave: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """NumPy/librosa reference of `LogMelFrontEnd` for one segment: returns [frames, n_mels] float64."""
    import librosa

    wave = np.asarray(wave, dtype=np.float64).reshape(-1)
    t = n_frames(len(wave), cfg)
    padded = np.zeros((t - 1) * cfg.hop_length + cfg.win_length)
    padded[: len(wave)] = wave
    frames = librosa.util.frame(padded, frame_length=cfg.win_length, hop_length=cfg.hop_length, axis=0)[:t]
    power = np.abs(np.fft.rfft(frames * hamming(cfg).astype(np.float64), n=cfg.n_fft)) ** 2
    logmel = np.log(power @ mel_matrix(cfg).astype(np.float64) + cfg.log_offset)
    if not cfg.standardize:
        return logmel
    valid = (np.abs(frames).max(axis=1) > 0).astype(np.float64)[:, None]
    if cfg.norm in FIXED_STATS_NORMS:
        if not cfg.norm_mean:
            raise ConfigError(f"norm={cfg.norm!r} needs norm_mean/norm_std (computed by training)")
        return (logmel - np.array(cfg.norm_mean)) / np.array(cfg.norm_std) * valid
    count = max(valid.sum(), 1.0)
    mean = (logmel * valid).sum(axis=0) / count
    var = (((logmel - mean) * valid) ** 2).sum(axis=0) / count
    std = np.maximum(np.sqrt(var), cfg.std_floor)
    return (logmel - mean) / std * valid
