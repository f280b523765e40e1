"""Binary layers of the BCRNN (paper section 3), each with a float twin (`binary=False`).

Every binary matrix product is a larq `QuantConv2D` with `ste_sign` input and kernel
quantizers, so the LCE converter turns it into a bit-packed `LceBconv2d`: a dense layer is a
1x1 convolution on [B, 1, 1, C] and the LSTM input projection of all timesteps is one 1x1
convolution on [B, T, 1, C]. Real-valued scales (XNOR-Net K, alpha, beta) multiply the
+-1 product afterwards, never the kernel, so the integer sums stay exact in float32 and the
converted model matches Keras. With `binary=False` the same code runs with the quantizers,
the constraint and all scales off: that is the full-precision CRNN.
"""

from __future__ import annotations

from typing import Any

import larq as lq
import numpy as np
import tensorflow as tf
import tf_keras as keras

from ser_bnn.nn.quantizers import binary_quantizer, weight_clip


def quant_conv(
    filters: int,
    kernel_size: tuple[int, int],
    binary: bool,
    name: str,
    estimator: str = "ste",
    binary_weights: bool = True,
    **kwargs: Any,
):
    """A larq QuantConv2D, binary (sign inputs with the `estimator`'s gradient, ste_sign kernel,
    clipped latent weights) or float. `binary_weights=False` keeps binary inputs but real (clipped)
    weights: the first stage of two-stage training."""
    return lq.layers.QuantConv2D(
        filters,
        kernel_size,
        padding="same" if tuple(kernel_size) != (1, 1) else "valid",
        pad_values=1.0 if binary else 0.0,
        input_quantizer=binary_quantizer(binary, estimator),
        kernel_quantizer=binary_quantizer(binary and binary_weights),
        kernel_constraint=weight_clip(binary),
        use_bias=False,
        name=name,
        **kwargs,
    )


class BinarizationOptions:
    """How a binary layer binarizes (a mixin; every option off is the paper's layer):
    - `estimator`: the activation sign's gradient (`ser_bnn.nn.quantizers.ESTIMATORS`);
    - `threshold`: sign(x - b) with a learned per-channel b (ReActNet's RSign), initialised to 0; at
      export one elementwise subtraction in front of the bit-packed product;
    - `binary_weights=False`: real (clipped) weights with binary inputs, stage 1 of two-stage training;
      the weight scale alpha is then 1 (the real weights carry their magnitude).
    """

    def _init_binarization(self, estimator: str, threshold: bool, binary_weights: bool) -> None:
        self.estimator = estimator
        self.threshold = bool(threshold)
        self.binary_weights = bool(binary_weights)
        self.shift = None

    def _build_threshold(self, channels: int) -> None:
        if self.binary and self.threshold:
            self.shift = self.add_weight(name="threshold", shape=(channels,), initializer="zeros")

    def _shifted(self, x: tf.Tensor) -> tf.Tensor:
        return x - self.shift if self.shift is not None else x

    def _binarization_config(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "threshold": self.threshold,
            "binary_weights": self.binary_weights,
        }


def mean_abs_kernel(kernel: tf.Tensor) -> tf.Tensor:
    """Per-output-unit sum of |W| over all but the last axis (the caller divides)."""
    return tf.reduce_sum(tf.abs(kernel), axis=list(range(len(kernel.shape) - 1)))


def xnor_input_scale(x: tf.Tensor, kernel_size: tuple[int, int]) -> tf.Tensor:
    """XNOR-Net K: the channel mean of |x| convolved with a 1/(h*w) box filter, zero 'same' padding.

    x: [B, H, W, C] -> K: [B, H, W, 1].
    """
    kh, kw = kernel_size
    a = tf.reduce_mean(tf.abs(x), axis=-1, keepdims=True)
    box = tf.constant(np.full((kh, kw, 1, 1), 1.0 / (kh * kw), dtype=np.float32), dtype=x.dtype)
    return tf.nn.conv2d(a, box, strides=1, padding="SAME")


@keras.utils.register_keras_serializable(package="ser_bnn")
class BinaryConv2D(BinarizationOptions, keras.layers.Layer):
    """Binary 'same' convolution with +-1 weights and inputs, times XNOR-Net's K (section 3.1).

    Output = (sign(I) * sign(W)) . K, with K from `xnor_input_scale`. The per-filter weight
    scale alpha is left out: the BatchNormalization and PReLU that follow learn it (paper).
    Padding uses +1 (`pad_values=1.0`), which LCE's bit-packed kernel supports natively.
    `binary=False` is a plain float convolution (no quantizers, no K).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: tuple[int, int],
        binary: bool = True,
        xnor_input_scale: bool = True,
        estimator: str = "ste",
        threshold: bool = False,
        binary_weights: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.binary = bool(binary)
        self.xnor_input_scale = bool(xnor_input_scale)
        self._init_binarization(estimator, threshold, binary_weights)
        self.conv = quant_conv(
            self.filters, self.kernel_size, self.binary, name="conv", estimator=estimator,
            binary_weights=binary_weights,
        )  # fmt: skip

    def build(self, input_shape: tf.TensorShape) -> None:
        self.in_shape = tuple(tf.TensorShape(input_shape).as_list()[1:])
        with tf.name_scope(self.conv.name):
            self.conv.build(input_shape)
        self._build_threshold(int(input_shape[-1]))
        super().build(input_shape)

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        x = self._shifted(inputs)
        y = self.conv(x)
        if self.binary and self.xnor_input_scale:
            y = y * xnor_input_scale(x, self.kernel_size)
        return y

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape(input_shape)[:-1].concatenate([self.filters])

    def mac_counts(self) -> tuple[int, int]:
        """(binary MACs, float MACs) for one input example."""
        h, w, c = self.in_shape
        kh, kw = self.kernel_size
        macs = h * w * kh * kw * c * self.filters
        if self.binary:
            return macs, (h * w * kh * kw if self.xnor_input_scale else 0)
        return 0, macs

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "binary": self.binary,
            "xnor_input_scale": self.xnor_input_scale,
            **self._binarization_config(),
        }


@keras.utils.register_keras_serializable(package="ser_bnn")
class BinaryDense(BinarizationOptions, keras.layers.Layer):
    """Binary fully connected layer: alpha * beta * (sign(W) . sign(x)) (+ bias), section 3.2.3.

    Written as a 1x1 QuantConv2D on [B, 1, 1, C] so LCE bit-packs it. alpha = mean |W| per
    output unit (from the latent weights), beta = mean |x| per example, both applied after the
    +-1 product, as in the binary LSTM. `binary=False`: a plain float dense layer.
    """

    def __init__(
        self,
        units: int,
        binary: bool = True,
        use_bias: bool = False,
        estimator: str = "ste",
        threshold: bool = False,
        binary_weights: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.binary = bool(binary)
        self.use_bias = bool(use_bias)
        self._init_binarization(estimator, threshold, binary_weights)
        self.proj = quant_conv(
            self.units, (1, 1), self.binary, name="proj", estimator=estimator, binary_weights=binary_weights
        )

    def build(self, input_shape: tf.TensorShape) -> None:
        self.in_units = int(input_shape[-1])
        with tf.name_scope(self.proj.name):
            self.proj.build([input_shape[0], 1, 1, self.in_units])
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None
        )
        self._build_threshold(self.in_units)
        super().build(input_shape)

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        x = self._shifted(inputs)
        y = self.proj(x[:, None, None, :])[:, 0, 0, :]
        if self.binary:
            beta = tf.reduce_mean(tf.abs(x), axis=-1, keepdims=True)
            if self.binary_weights:
                beta = beta * (mean_abs_kernel(self.proj.kernel) / self.in_units)
            y = y * beta
        if self.bias is not None:
            y = y + self.bias
        return y

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def mac_counts(self) -> tuple[int, int]:
        macs = self.in_units * self.units
        return (macs, 0) if self.binary else (0, macs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "binary": self.binary,
            "use_bias": self.use_bias,
            **self._binarization_config(),
        }


@keras.utils.register_keras_serializable(package="ser_bnn")
class ValidSteps(keras.layers.Layer):
    """[B, T, F] standardized features -> [B, T // pool] in {0, 1}: 1 where any frame of the pooling
    window holds signal. Zero padding (and SpecAugment's time masks) are all-zero frames."""

    def __init__(self, pool: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool = int(pool)

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        steps = inputs.shape[1] // self.pool
        frame = tf.cast(tf.reduce_max(tf.abs(inputs[:, : steps * self.pool]), axis=-1) > 0.0, inputs.dtype)
        return tf.reduce_max(tf.reshape(frame, [-1, steps, self.pool]), axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tf.TensorShape:
        return tf.TensorShape([input_shape[0], input_shape[1] // self.pool])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool": self.pool}


@keras.utils.register_keras_serializable(package="ser_bnn")
class StepNorm(keras.layers.Layer):
    """Batch normalization of one per-step quantity inside the recurrence: y = gamma (x - m) / s (+ beta).

    Training: m, s from the batch at this step, and the moving averages move towards them with a
    per-step momentum of `momentum ** (1 / steps)`, so that one sequence moves them as much as one
    batch moves a Keras BatchNormalization. Inference: the moving averages, shared by every step.
    gamma starts at 0.1 (recurrent batch normalization, Cooijmans et al., ICLR 2017).
    """

    def __init__(self, steps: int, center: bool = False, momentum: float = 0.9, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps = int(steps)
        self.center = bool(center)
        self.momentum = float(momentum)
        self.epsilon = 1e-3

    def build(self, input_shape: tf.TensorShape) -> None:
        n = int(input_shape[-1])
        self.gamma = self.add_weight(name="gamma", shape=(n,), initializer=keras.initializers.Constant(0.1))
        self.beta = self.add_weight(name="beta", shape=(n,), initializer="zeros") if self.center else None
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=(n,), initializer="zeros", trainable=False
        )
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=(n,), initializer="ones", trainable=False
        )
        super().build(input_shape)

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        if training:
            mean, var = tf.nn.moments(x, axes=[0])
            keep = self.momentum ** (1.0 / max(self.steps, 1))
            self.moving_mean.assign(keep * self.moving_mean + (1.0 - keep) * tf.stop_gradient(mean))
            self.moving_variance.assign(keep * self.moving_variance + (1.0 - keep) * tf.stop_gradient(var))
        else:
            mean, var = self.moving_mean, self.moving_variance
        y = (x - mean) * (self.gamma * tf.math.rsqrt(var + self.epsilon))
        return y + self.beta if self.beta is not None else y

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "steps": self.steps, "center": self.center, "momentum": self.momentum}
