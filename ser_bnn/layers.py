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
from ser_bnn.thermometer import thresholds


def _quant_conv(filters: int, kernel_size: tuple[int, int], binary: bool, name: str, **kwargs: Any):
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


def _mean_abs_kernel(kernel: tf.Tensor) -> tf.Tensor:
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
        self.conv = _quant_conv(self.filters, self.kernel_size, self.binary, name="conv")

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
        self.proj = _quant_conv(self.units, (1, 1), self.binary, name="proj")

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
            alpha = _mean_abs_kernel(self.proj.kernel) / self.in_units
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
class BinaryLSTMCell(keras.layers.Layer):
    """One step of the binary LSTM (paper eq. 8), for `keras.layers.RNN`.

    Gate pre-activations z = alpha * beta_t * (sign(W) . sign(d_t)) + b with d_t = [x_t, h_{t-1}].
    The input half sign(W_x) . sign(x_t) of all timesteps is computed before the loop by
    `BinaryLSTM`; each step receives it together with mean|x_t| and adds the recurrent half
    (a 1x1 binary QuantConv2D on [B, 1, 1, H]). beta_t = mean |d_t| is exact:
    (C_x mean|x_t| + H mean|h_{t-1}|) / (C_x + H). alpha (per gate unit, [1, 4H]) is an argument,
    computed once per sequence by `BinaryLSTM`. Cell state, gates and nonlinearities are real-valued.
    Step input: [B, 4H + 1] = [projection, mean|x_t|] if binary, else [B, 4H] (float LSTM).
    """

    def __init__(
        self, units: int, input_dim: int, binary: bool = True, input_norm: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_dim = int(input_dim)
        self.binary = bool(binary)
        self.input_norm = bool(input_norm)
        self.state_size = [self.units, self.units]
        self.output_size = self.units
        self.recurrent_proj = _quant_conv(
            4 * self.units, (1, 1), self.binary, name="recurrent_proj", kernel_initializer="orthogonal"
        )

    def build(self, input_shape: tf.TensorShape) -> None:
        with tf.name_scope(self.recurrent_proj.name):
            self.recurrent_proj.build([None, 1, 1, self.units])
        self.bias = self.add_weight(
            name="bias", shape=(4 * self.units,), initializer=_unit_forget_bias(self.units)
        )
        super().build(input_shape)

    @tf.autograph.experimental.do_not_convert
    def call(
        self,
        inputs: tf.Tensor,
        states: list[tf.Tensor],
        alpha: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        h, c = states[0], states[1]
        n = 4 * self.units
        rec = self.recurrent_proj(h[:, None, None, :])[:, 0, 0, :]
        if self.binary and self.input_norm:  # input half already scaled by BatchNorm
            mean_abs_h = tf.reduce_mean(tf.abs(h), axis=-1, keepdims=True)
            z = inputs + alpha * mean_abs_h * rec + self.bias
        elif self.binary:
            proj, mean_abs_x = inputs[:, :n], inputs[:, n:]
            mean_abs_h = tf.reduce_mean(tf.abs(h), axis=-1, keepdims=True)
            beta = (self.input_dim * mean_abs_x + self.units * mean_abs_h) / (self.input_dim + self.units)
            z = alpha * beta * (proj + rec) + self.bias
        else:
            z = inputs + rec + self.bias
        zi, zf, zg, zo = tf.split(z, 4, axis=-1)
        c_new = tf.sigmoid(zf) * c + tf.sigmoid(zi) * tf.tanh(zg)
        h_new = tf.sigmoid(zo) * tf.tanh(c_new)
        return h_new, [h_new, c_new]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "input_dim": self.input_dim,
            "binary": self.binary,
            "input_norm": self.input_norm,
        }


def _unit_forget_bias(units: int):
    def init(shape, dtype=None, **_: Any) -> tf.Tensor:
        return tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)

    return init


@keras.utils.register_keras_serializable(package="ser_bnn")
class BinaryLSTM(keras.layers.Layer):
    """One direction of the binary LSTM: [B, T, C] -> read-out [B, H] (or [B, 2H] for "meanstd").

    The input projection sign(W_x) . sign(x_t) for all T steps is one 1x1 binary QuantConv2D
    on [B, T, 1, C] outside the loop; `keras.backend.rnn` (the while loop behind
    `keras.layers.RNN`, not unrolled) runs `BinaryLSTMCell`. alpha = mean |[W_x; W_h]| per gate
    unit, from the latent weights, computed once before the loop. (`keras.layers.RNN` would
    need `constants=` for alpha, and a model with RNN constants cannot be saved as SavedModel,
    which the LCE converter does first.)
    `input_levels` k > 1 (binary only): the input is k thermometer codes sign(x_t - t_j), t_j at
    standard normal quantiles (`ser_bnn.thermometer`), the 1x1 conv runs on [B, T, k, C] with the
    same weights, and the k products are averaged: a (k+1)-level input at k times the input MACs.
    `go_backwards=True` reads the sequence from the end. Build the two directions of a
    bidirectional layer as two instances (each with its own weights and config).

    Read-out: `last` returns the final hidden state (paper); `mean` and `meanstd` take inputs
    `[x, valid]` with `valid` [B, T] (1 for steps that hold signal, 0 for zero padding) and return
    the mean (and standard deviation) of h_t over the valid steps. The sums are carried as extra
    loop states, so the converted graph keeps one WHILE loop and no per-step output list.
    """

    def __init__(
        self,
        units: int,
        binary: bool = True,
        go_backwards: bool = False,
        readout: str = "last",
        input_norm: bool = False,
        input_levels: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if readout not in ("last", "mean", "meanstd"):
            raise ValueError(f"readout must be 'last', 'mean' or 'meanstd', got {readout!r}")
        self.input_levels = int(input_levels)
        self._t = thresholds(self.input_levels)[None, None, :, None] if self.input_levels > 1 else None
        self.units = int(units)
        self.binary = bool(binary)
        self.go_backwards = bool(go_backwards)
        self.readout = readout
        self.input_norm = bool(input_norm)
        self.input_proj = _quant_conv(4 * self.units, (1, 1), self.binary, name="input_proj")
        self.input_bn = (
            keras.layers.BatchNormalization(momentum=0.9, name="input_bn") if self.input_norm else None
        )
        self.cell: BinaryLSTMCell | None = None

    def build(self, input_shape: Any) -> None:
        if self.readout != "last":
            input_shape = input_shape[0]
        input_shape = tf.TensorShape(input_shape)
        self.time_steps = input_shape[1]
        self.input_dim = int(input_shape[-1])
        with tf.name_scope(self.input_proj.name):
            self.input_proj.build([input_shape[0], input_shape[1], self.input_levels, self.input_dim])
        if self.input_bn is not None:
            with tf.name_scope(self.input_bn.name):
                self.input_bn.build([None, None, 4 * self.units])
        self.cell = BinaryLSTMCell(
            self.units, self.input_dim, binary=self.binary, input_norm=self.input_norm, name="cell"
        )
        step_dim = 4 * self.units + (1 if self.binary and not self.input_norm else 0)
        with tf.name_scope(self.cell.name):
            self.cell.build([input_shape[0], step_dim])
        super().build(input_shape)

    def alpha(self) -> tf.Tensor:
        """[1, 4H]: mean |W| over the concatenated input and recurrent weights of each gate unit
        (over the recurrent weights only when BatchNorm scales the input half)."""
        if self.input_norm:
            return (_mean_abs_kernel(self.cell.recurrent_proj.kernel) / self.units)[None, :]
        total = _mean_abs_kernel(self.input_proj.kernel) + _mean_abs_kernel(self.cell.recurrent_proj.kernel)
        return (total / (self.input_dim + self.units))[None, :]

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: Any, training: bool | None = None) -> tf.Tensor:
        valid = None
        if self.readout != "last":
            inputs, valid = inputs
        x = tf.expand_dims(inputs, 2)
        if self._t is not None and self.binary:  # [B, T, levels, C]: one binary product per level
            x = x - tf.constant(self._t, dtype=x.dtype)
        proj = tf.reduce_mean(self.input_proj(x), axis=2)
        step_dim = 4 * self.units
        if self.input_bn is not None:
            proj = self.input_bn(proj, training=training)
            alpha = self.alpha() if self.binary else None
        elif self.binary:
            alpha = self.alpha()
            proj = tf.concat([proj, tf.reduce_mean(tf.abs(inputs), axis=-1, keepdims=True)], axis=-1)
            step_dim += 1
        else:
            alpha = None
        zeros = tf.zeros(tf.stack([tf.shape(inputs)[0], self.units]), dtype=inputs.dtype)
        states = [zeros, zeros]
        if valid is not None:
            proj = tf.concat([proj, valid[:, :, None]], axis=-1)
            states += [zeros] * (2 if self.readout == "meanstd" else 1)

        def step(x_t: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
            h, new = self.cell(x_t[:, :step_dim], states[:2], alpha=alpha)
            if valid is None:
                return h, new
            v = x_t[:, step_dim:]
            sums = [states[2] + v * h]
            if self.readout == "meanstd":
                sums.append(states[3] + v * tf.square(h))
            return h, new + sums

        last, _, final = keras.backend.rnn(
            step, proj, states, go_backwards=self.go_backwards, return_all_outputs=False
        )
        if valid is None:
            return last
        count = tf.maximum(tf.reduce_sum(valid, axis=1, keepdims=True), 1.0)
        mean = final[2] / count
        if self.readout == "mean":
            return mean
        var = tf.maximum(final[3] / count - tf.square(mean), 0.0)
        return tf.concat([mean, tf.sqrt(var + 1e-6)], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tf.TensorShape:
        if self.readout != "last":
            input_shape = input_shape[0]
        return tf.TensorShape([input_shape[0], self.units * (2 if self.readout == "meanstd" else 1)])

    def mac_counts(self) -> tuple[int, int]:
        """(binary MACs, float MACs) of the input and recurrent projections over all timesteps."""
        levels = self.input_levels if self.binary else 1
        macs = self.time_steps * 4 * self.units * (levels * self.input_dim + self.units)
        return (macs, 0) if self.binary else (0, macs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "binary": self.binary,
            "go_backwards": self.go_backwards,
            "readout": self.readout,
            "input_norm": self.input_norm,
            "input_levels": self.input_levels,
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
