"""Thermometer code of the standardized log-Mel input, so the first conv can stay binary.

The paper binarizes the conv input directly: sign(x) keeps one bit per time-frequency cell (is
the band above the speaker's mean?). `Thermometer(levels)` gives the binary conv `levels` input
channels x - t_k instead, with fixed thresholds t_k at the standard normal quantiles
k / (levels + 1), so that after the conv's sign each cell carries a thermometer code of its
standardized value (as in FracBNN, Zhang et al. 2021, for binary first layers). `levels=1` is
t = 0: exactly the paper. LCE packs 32 channels into one word, so up to 32 levels cost the
bit-packed conv the same popcount work as one channel.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras


def thresholds(levels: int) -> np.ndarray:
    """[levels] thresholds: standard normal quantiles k / (levels + 1), k = 1..levels."""
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    return np.array([NormalDist().inv_cdf(k / (levels + 1)) for k in range(1, levels + 1)], np.float32)


@keras.utils.register_keras_serializable(package="ser_bnn")
class Thermometer(keras.layers.Layer):
    """[B, H, W, 1] -> [B, H, W, levels]: x - t_k for each threshold t_k."""

    def __init__(self, levels: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.levels = int(levels)
        self._t = thresholds(self.levels)

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return inputs - tf.constant(self._t, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape: Any) -> tf.TensorShape:
        return tf.TensorShape(input_shape)[:-1].concatenate([self.levels])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "levels": self.levels}
