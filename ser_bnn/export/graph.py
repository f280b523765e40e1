"""The deployable graph: waveform (and speaker statistics) in; probabilities, window statistics and
the speech-frame count out.

`deploy_model` wraps a trained network (batch size 1) as

    inputs   waveform       [1, S] float32, S = window_samples (48 000 = 3 s at 16 kHz)
             speaker_stats  [1, 3, n_mels] float32   (only for features.norm == "speaker")
    outputs  probabilities  [1, C] float32
             window_stats   [1, 3, n_mels] float32
             speech_frames  [1, 1] float32

`OnlineNormFrontEnd` is the front end of `ser_bnn.nn.frontend.LogMelFrontEnd` (same raw log-Mel and
signal mask) plus:
- standardization: `norm="speaker"` with the statistics input and the rule of
  `ser_bnn.dsp.speaker.norm_params` (count < MIN_STATS_FRAMES: the config's default statistics, with
  exactly the old fixed-statistics arithmetic, so count 0 is the single-input model); other norms
  exactly as `LogMelFrontEnd` (the statistics input does not exist);
- `window_stats`: count / sum / sum of squares of this window's raw log-Mel over its signal frames
  (layout of `ser_bnn.dsp.speaker.to_tensor`), independent of the statistics input;
- `speech_frames`: frames that pass the deployed speech rule of `ser_bnn.dsp.gating`
  ("spectral-change": `speech_frames_graph`, tested against `gating.speech_frames`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp import gating, speaker

INPUT_NAMES = ("waveform", "speaker_stats")
OUTPUT_NAMES = ("probabilities", "window_stats", "speech_frames")


def takes_stats(features: FeatureConfig) -> bool:
    """Whether the exported model has the `speaker_stats` input."""
    return features.standardize and features.norm == "speaker"


@lru_cache(maxsize=1)
def get_online_frontend_class():  # noqa: ANN201
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.nn.frontend import get_frontend_class

    class OnlineNormFrontEnd(keras.layers.Layer):
        """[waveform(, speaker_stats)] -> (standardized log-Mel, window_stats, speech_frames)."""

        def __init__(self, features: FeatureConfig | dict | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if isinstance(features, dict):
                features = FeatureConfig(**features)
            self.features = features or FeatureConfig()
            self.frontend = get_frontend_class()(features=self.features, name="logmel")

        def _speaker_standardize(self, logmel: tf.Tensor, valid: tf.Tensor, stats: tf.Tensor) -> tf.Tensor:
            c = self.features
            count = stats[:, 0:1, 0:1]  # [B, 1, 1]
            use_default = count < float(speaker.MIN_STATS_FRAMES)
            n = tf.maximum(count, 1.0)
            mean_s = stats[:, 1:2, :] / n  # [B, 1, n_mels]
            var = tf.maximum(stats[:, 2:3, :] / n - tf.square(mean_s), 0.0)
            inv_std_s = 1.0 / tf.maximum(tf.sqrt(var), c.std_floor)
            mean_d = tf.constant(np.array(c.norm_mean, np.float32))
            inv_std_d = tf.constant(1.0 / np.array(c.norm_std, np.float32))
            mean = tf.where(use_default, mean_d, mean_s)
            inv_std = tf.where(use_default, inv_std_d, inv_std_s)
            return (logmel - mean) * inv_std * valid

        def call(self, inputs: Any) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
            c = self.features
            if takes_stats(c):
                wave, stats = inputs
            else:
                wave, stats = inputs, None
            logmel, valid = self.frontend.raw_logmel(wave)  # [B, T, M], [B, T, 1]
            if stats is not None:
                x = self._speaker_standardize(logmel, valid, stats)
            else:
                x = self.frontend.standardize(logmel, valid)
            masked = logmel * valid
            count = tf.reduce_sum(valid, axis=1)  # [B, 1]
            window_stats = tf.stack(
                [
                    tf.tile(count, [1, c.n_mels]),
                    tf.reduce_sum(masked, axis=1),
                    tf.reduce_sum(masked * logmel, axis=1),
                ],
                axis=1,
            )  # [B, 3, M]
            return x, window_stats, speech_frames_graph(logmel, valid)

        def get_config(self) -> dict[str, Any]:
            from dataclasses import asdict

            return {**super().get_config(), "features": asdict(self.features)}

    return OnlineNormFrontEnd


def _box_sum(x, width: int):  # noqa: ANN001, ANN202 - tf.Tensor
    """Centred sums over `width` frames of [B, T, C] (zeros outside): one float CONV_2D."""
    import tensorflow as tf

    kernel = tf.ones([width, 1, 1, 1], x.dtype)
    return tf.nn.conv2d(x[..., None], kernel, strides=1, padding="SAME")[..., 0]


def speech_frames_graph(logmel, valid):  # noqa: ANN001, ANN201 - tf.Tensor
    """[B, 1] the deployed rule's speech frames from raw log-Mel [B, T, M] and signal mask [B, T, 1]
    (`ser_bnn.dsp.gating.speech_mask`, "spectral-change")."""
    import tensorflow as tf

    g = gating
    t = int(logmel.shape[1])
    energy = tf.reduce_mean(logmel, axis=-1, keepdims=True)  # [B, T, 1]
    log_flat = energy - tf.math.log(tf.reduce_mean(tf.exp(logmel), axis=-1, keepdims=True))
    loud = tf.cast(energy > g.ENERGY_FLOOR, tf.float32) * valid
    base = loud * tf.cast(log_flat < g.LOG_FLATNESS_MAX, tf.float32)
    base = base * tf.cast(log_flat > g.LOG_FLATNESS_MIN, tf.float32)
    top = tf.reduce_max(energy, axis=1, keepdims=True)  # padding frames hold the minimum, log(log_offset)
    active = loud * tf.cast(energy > top - g.ACTIVE_RANGE, tf.float32)
    counts = gating.box_sum(np.ones((t, 1)), g.SMOOTH_FRAMES).astype(np.float32)  # [T, 1]
    smooth = _box_sum(logmel - energy, g.SMOOTH_FRAMES) / tf.constant(counts)
    lag = g.CHANGE_LAG
    d = tf.reduce_mean(tf.abs(smooth[:, lag:, :] - smooth[:, :-lag, :]), axis=-1, keepdims=True)
    pair = active[:, lag:, :] * active[:, :-lag, :]
    change = pair * tf.cast(d > g.CHANGE_MIN, tf.float32)
    zeros = tf.zeros_like(active[:, :lag, :])
    h = _box_sum(tf.concat([zeros, change], axis=1), g.CONTEXT_FRAMES)
    p = _box_sum(tf.concat([zeros, pair], axis=1), g.CONTEXT_FRAMES)
    num, den = g.CHANGE_SHARE
    speech = base * active * tf.cast(h * float(den) > p * float(num), tf.float32)
    return tf.reduce_sum(speech, axis=1)  # [B, 1]


def deploy_model(model: Any, features: FeatureConfig) -> Any:
    """The exported Keras model at batch 1 (see the module docstring for inputs and outputs)."""
    import tf_keras as keras

    wave = keras.Input(shape=(features.segment_samples,), batch_size=1, name=INPUT_NAMES[0])
    inputs = [wave]
    if takes_stats(features):
        inputs.append(keras.Input(shape=(3, features.n_mels), batch_size=1, name=INPUT_NAMES[1]))
    fe = get_online_frontend_class()(features=features, name="online_frontend")
    x, window_stats, speech_frames = fe(inputs if len(inputs) > 1 else wave)
    probs = model(x)
    outs = [
        keras.layers.Activation("linear", name=name)(t)
        for name, t in zip(OUTPUT_NAMES, (probs, window_stats, speech_frames), strict=True)
    ]
    return keras.Model(inputs, outs, name=f"{model.name}_waveform")
