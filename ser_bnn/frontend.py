"""The log-Mel front end: one definition for training, export and inference.

`LogMelFrontEnd` is a Keras layer built only from ops TFLite runs natively (frame, window,
RFFT of power-of-two length, sparse Mel filterbank as segment sums, log), so the exported
flatbuffer can take raw audio.
Training computes its cached features with the same layer. `logmel_reference` is the
NumPy/librosa computation the layer is tested against; it documents what the layer does:

1. frames of `win_length` samples every `hop_length` samples, the end zero-padded, so a
   window of `segment_frames * hop_length` samples gives exactly `segment_frames` frames;
2. periodic Hamming window, zero-padded to `n_fft`, power spectrum |rfft|^2;
3. Slaney Mel filterbank (librosa's), `n_mels` bands; `log(mel + log_offset)`;
4. standardization per Mel band, either online (`norm="segment"`: each segment's own mean and
   standard deviation over the frames that hold signal) or with fixed statistics estimated on
   the training speakers (`norm="global"`, and the default statistics of `norm="speaker"`,
   stored in the config so export bakes them in; `ser_bnn.normalization` applies a speaker's own);
   frames that are exactly zero (the zero padding of the last segment) are left out of the
   statistics and set to 0 afterwards, i.e. padded with zeros in the standardized domain.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

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


def _keras():  # noqa: ANN202
    import tf_keras

    return tf_keras


def make_frontend_layer(cfg: FeatureConfig, **kwargs: Any):  # noqa: ANN201 - Keras layer
    """Build a `LogMelFrontEnd` layer (imports TensorFlow)."""
    return get_frontend_class()(features=cfg, **kwargs)


@lru_cache(maxsize=1)
def get_frontend_class():  # noqa: ANN201
    import tensorflow as tf

    keras = _keras()

    class LogMelFrontEnd(keras.layers.Layer):
        """Waveform [B, samples] float32 in [-1, 1] -> standardized log-Mel [B, frames, n_mels]."""

        def __init__(self, features: FeatureConfig | dict | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if isinstance(features, dict):
                features = FeatureConfig(**features)
            self.features = features or FeatureConfig()
            c = self.features
            if c.standardize and c.norm in FIXED_STATS_NORMS and not c.norm_mean:
                raise ConfigError(f"norm={c.norm!r} needs norm_mean/norm_std (computed by training)")
            ids, weights = sparse_mel(self.features)
            self._mel_ids = [tf.constant(i) for i in ids]
            self._mel_w = [tf.constant(w[:, None]) for w in weights]
            self._window = tf.constant(hamming(self.features))

        def _sparse_mel(self, power: tf.Tensor) -> tf.Tensor:
            """power [N, bins] @ Mel matrix, as segment sums over each bin's (at most 2) bands.

            Same result as the dense matmul (to float32 rounding) with 1/6 of the constants:
            the dense 257x40 matrix is 89 % zeros and would be 41 KB of the flatbuffer.
            """
            n_mels = self.features.n_mels
            pt = tf.transpose(power)  # [bins, N]
            acc = None
            for ids, w in zip(self._mel_ids, self._mel_w, strict=True):
                part = tf.math.unsorted_segment_sum(pt * w, ids, n_mels + 1)  # last band: unused slots
                acc = part if acc is None else acc + part
            return tf.transpose(acc[:n_mels])

        def call(self, wave: tf.Tensor) -> tf.Tensor:
            logmel, valid = self.raw_logmel(wave)
            return self.standardize(logmel, valid)

        def raw_logmel(self, wave: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            """Raw log-Mel [B, T, n_mels] and the signal mask [B, T, 1] (1.0 where a frame has a
            non-zero sample, 0.0 on zero padding)."""
            c = self.features
            wave = tf.convert_to_tensor(wave, tf.float32)
            frames = tf.signal.frame(wave, c.win_length, c.hop_length, pad_end=True)  # [B, T, W]
            windowed = frames * self._window
            spec = tf.signal.rfft(windowed, fft_length=[c.n_fft])  # [B, T, F]
            power = tf.math.square(tf.math.real(spec)) + tf.math.square(tf.math.imag(spec))
            t = tf.shape(power)[1]
            mel = tf.reshape(self._sparse_mel(tf.reshape(power, [-1, c.n_freq_bins])), [-1, t, c.n_mels])
            logmel = tf.math.log(mel + c.log_offset)
            valid = tf.cast(tf.reduce_max(tf.abs(frames), axis=-1, keepdims=True) > 0.0, tf.float32)
            return logmel, valid

        def standardize(self, logmel: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
            """The config's standardization of raw log-Mel (fixed statistics, or the segment's own)."""
            c = self.features
            if not c.standardize:
                return logmel
            if c.norm in FIXED_STATS_NORMS:
                mean = tf.constant(np.array(c.norm_mean, np.float32))
                inv_std = tf.constant(1.0 / np.array(c.norm_std, np.float32))
                return (logmel - mean) * inv_std * valid
            count = tf.maximum(tf.reduce_sum(valid, axis=1, keepdims=True), 1.0)  # [B, 1, 1]
            mean = tf.reduce_sum(logmel * valid, axis=1, keepdims=True) / count
            centered = (logmel - mean) * valid
            var = tf.reduce_sum(tf.square(centered), axis=1, keepdims=True) / count
            std = tf.maximum(tf.sqrt(var), c.std_floor)
            return centered / std

        def get_config(self) -> dict[str, Any]:
            from dataclasses import asdict

            return {**super().get_config(), "features": asdict(self.features)}

    return LogMelFrontEnd
