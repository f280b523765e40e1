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

from ser_bnn.quantizers import binary_quantizer, weight_clip


def quant_conv(filters: int, kernel_size: tuple[int, int], binary: bool, name: str, **kwargs: Any):
    """A larq QuantConv2D, binary (ste_sign inputs and kernel, clipped latent weights) or float."""
    return lq.layers.QuantConv2D(
        filters,
        kernel_size,
        padding="same" if tuple(kernel_size) != (1, 1) else "valid",
        pad_values=1.0 if binary else 0.0,
        input_quantizer=binary_quantizer(binary),
        kernel_quantizer=binary_quantizer(binary),
        kernel_constraint=weight_clip(binary),
        use_bias=False,
        name=name,
        **kwargs,
    )


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
class BinaryConv2D(keras.layers.Layer):
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.binary = bool(binary)
        self.xnor_input_scale = bool(xnor_input_scale)
        self.conv = quant_conv(self.filters, self.kernel_size, self.binary, name="conv")

    def build(self, input_shape: tf.TensorShape) -> None:
        self.in_shape = tuple(tf.TensorShape(input_shape).as_list()[1:])
        with tf.name_scope(self.conv.name):
            self.conv.build(input_shape)
        super().build(input_shape)

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        y = self.conv(inputs)
        if self.binary and self.xnor_input_scale:
            y = y * xnor_input_scale(inputs, self.kernel_size)
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
        }


@keras.utils.register_keras_serializable(package="ser_bnn")
class BinaryDense(keras.layers.Layer):
    """Binary fully connected layer: alpha * beta * (sign(W) . sign(x)) (+ bias), section 3.2.3.

    Written as a 1x1 QuantConv2D on [B, 1, 1, C] so LCE bit-packs it. alpha = mean |W| per
    output unit (from the latent weights), beta = mean |x| per example, both applied after the
    +-1 product, as in the binary LSTM. `binary=False`: a plain float dense layer.
    """

    def __init__(self, units: int, binary: bool = True, use_bias: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.binary = bool(binary)
        self.use_bias = bool(use_bias)
        self.proj = quant_conv(self.units, (1, 1), self.binary, name="proj")

    def build(self, input_shape: tf.TensorShape) -> None:
        self.in_units = int(input_shape[-1])
        with tf.name_scope(self.proj.name):
            self.proj.build([input_shape[0], 1, 1, self.in_units])
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None
        )
        super().build(input_shape)

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        y = self.proj(inputs[:, None, None, :])[:, 0, 0, :]
        if self.binary:
            alpha = mean_abs_kernel(self.proj.kernel) / self.in_units
            beta = tf.reduce_mean(tf.abs(inputs), axis=-1, keepdims=True)
            y = y * (alpha * beta)
        if self.bias is not None:
            y = y + self.bias
        return y

    def compute_output_shape(self, input_shape: tf.TensorShape) -> tf.TensorShape:
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def mac_counts(self) -> tuple[int, int]:
        macs = self.in_units * self.units
        return (macs, 0) if self.binary else (0, macs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "binary": self.binary, "use_bias": self.use_bias}


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
