"""The log-Mel front end as a Keras layer: one definition for training, export and inference.

`LogMelFrontEnd` is built only from ops TFLite runs natively (frame, window, RFFT of power-of-two
length, sparse Mel filterbank as segment sums, log), so the exported flatbuffer can take raw audio.
Training computes its cached features with the same layer. What it computes (framing, window,
Mel filterbank, log, standardization with padding frames left out) is defined, and tested, by its
NumPy/librosa reference `ser_bnn.dsp.logmel.logmel_reference`; a speaker's own statistics are
applied outside the layer (`ser_bnn.data.inputs`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp.logmel import FIXED_STATS_NORMS, hamming, sparse_mel
from ser_bnn.errors import ConfigError


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
