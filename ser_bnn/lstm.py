"""The binary LSTM of the BCRNN (paper section 3.2.2, eq. 8), with its float twin (`binary=False`).

One direction is a `BinaryLSTM`: the input projection of all timesteps is one 1x1 binary
convolution before the loop (LCE bit-packs only 2-D convolutions), and `BinaryLSTMCell` adds the
recurrent projection (another 1x1 binary convolution) at every step. Scales multiply the +-1
products afterwards (see `ser_bnn.layers`).

Scales of the two binary products (`scales`):
- `shared` (paper): z = alpha * beta_t * (P_t + R_t) + b, one alpha per gate unit over the
  concatenated weights [W_x; W_h] and beta_t = mean |[x_t, h_{t-1}]|. The recurrent half then has a
  fixed share of z: with C_x = 2560 inputs and H = 128 units it is about sqrt(H / C_x) = 1/4.5 of
  the input half, whatever the network learns.
- `split`: z = g_x * mean|x_t| * P_t / sqrt(C_x) + g_h * mean|h_{t-1}| * R_t / sqrt(H) + b with
  learned gains g_x, g_h per gate unit (initialized to 1): each product normalized by its fan-in,
  so both halves start at the same scale, and the network sets their balance (weight-normalized
  binary LSTMs: Hou et al., NeurIPS 2019; separately normalized halves: Ardakani et al., ICLR 2019).
  At inference g / sqrt(C) is a constant per output channel (one multiplier of the LceBconv2d).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tf_keras as keras

from ser_bnn.layers import mean_abs_kernel, quant_conv
from ser_bnn.thermometer import thresholds

SCALES = ("shared", "split")


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
    With `scales="split"` the step receives the scaled input half g_x * mean|x_t| * P_t / sqrt(C_x)
    ([B, 4H]) and adds g_h * mean|h_{t-1}| * R_t / sqrt(H) (module docstring).
    """

    def __init__(
        self,
        units: int,
        input_dim: int,
        binary: bool = True,
        input_norm: bool = False,
        scales: str = "shared",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_scales(scales, input_norm)
        self.units = int(units)
        self.input_dim = int(input_dim)
        self.binary = bool(binary)
        self.input_norm = bool(input_norm)
        self.scales = scales
        self.state_size = [self.units, self.units]
        self.output_size = self.units
        self.recurrent_proj = quant_conv(
            4 * self.units, (1, 1), self.binary, name="recurrent_proj", kernel_initializer="orthogonal"
        )

    def build(self, input_shape: tf.TensorShape) -> None:
        with tf.name_scope(self.recurrent_proj.name):
            self.recurrent_proj.build([None, 1, 1, self.units])
        self.bias = self.add_weight(
            name="bias", shape=(4 * self.units,), initializer=_unit_forget_bias(self.units)
        )
        if self.binary and self.scales == "split":
            self.gain_x = self.add_weight(name="gain_x", shape=(4 * self.units,), initializer="ones")
            self.gain_h = self.add_weight(name="gain_h", shape=(4 * self.units,), initializer="ones")
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
        elif self.binary and self.scales == "split":  # input half already scaled by `BinaryLSTM`
            mean_abs_h = tf.reduce_mean(tf.abs(h), axis=-1, keepdims=True)
            z = inputs + (self.gain_h * float(self.units) ** -0.5) * (mean_abs_h * rec) + self.bias
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
            "scales": self.scales,
        }


def _check_scales(scales: str, input_norm: bool) -> None:
    if scales not in SCALES:
        raise ValueError(f"scales must be one of {', '.join(SCALES)}, got {scales!r}")
    if scales == "split" and input_norm:
        raise ValueError("scales='split' and input_norm=True both scale the input half: choose one")


def _unit_forget_bias(units: int):
    def init(shape, dtype=None, **_: Any) -> tf.Tensor:
        return tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)

    return init


def pooled_readout(
    readout: str, last: tf.Tensor, final: list[tf.Tensor], valid: tf.Tensor | None
) -> tf.Tensor:
    """The read-out from a finished loop: the last state, or the mean (and std) over valid steps.

    `final` holds the loop's states [h, c, sum of v*h, (sum of v*h^2)], `valid` the [B, T] step mask.
    """
    if valid is None or readout == "last":
        return last
    count = tf.maximum(tf.reduce_sum(valid, axis=1, keepdims=True), 1.0)
    mean = final[2] / count
    if readout == "mean":
        return mean
    var = tf.maximum(final[3] / count - tf.square(mean), 0.0)
    return tf.concat([mean, tf.sqrt(var + 1e-6)], axis=-1)


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
        scales: str = "shared",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_scales(scales, input_norm)
        self.scales = scales
        if readout not in ("last", "mean", "meanstd"):
            raise ValueError(f"readout must be 'last', 'mean' or 'meanstd', got {readout!r}")
        self.input_levels = int(input_levels)
        self._t = thresholds(self.input_levels)[None, None, :, None] if self.input_levels > 1 else None
        self.units = int(units)
        self.binary = bool(binary)
        self.go_backwards = bool(go_backwards)
        self.readout = readout
        self.input_norm = bool(input_norm)
        self.input_proj = quant_conv(4 * self.units, (1, 1), self.binary, name="input_proj")
        self.input_bn = (
            keras.layers.BatchNormalization(momentum=0.9, name="input_bn") if self.input_norm else None
        )
        self.cell: BinaryLSTMCell | None = None
        # run the time loop as unrolled steps instead of a while loop (same weights and outputs;
        # a training-speed option, not saved in the config: export always converts the loop)
        self.unroll = False

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
            self.units,
            self.input_dim,
            binary=self.binary,
            input_norm=self.input_norm,
            scales=self.scales,
            name="cell",
        )
        step_dim = 4 * self.units + (1 if self._beta_column() else 0)
        with tf.name_scope(self.cell.name):
            self.cell.build([input_shape[0], step_dim])
        super().build(input_shape)

    def _beta_column(self) -> bool:
        """Does each step receive mean|x_t| as an extra column (shared scales only)?"""
        return self.binary and not self.input_norm and self.scales == "shared"

    def alpha(self) -> tf.Tensor:
        """[1, 4H]: mean |W| over the concatenated input and recurrent weights of each gate unit
        (over the recurrent weights only when BatchNorm scales the input half)."""
        if self.input_norm:
            return (mean_abs_kernel(self.cell.recurrent_proj.kernel) / self.units)[None, :]
        total = mean_abs_kernel(self.input_proj.kernel) + mean_abs_kernel(self.cell.recurrent_proj.kernel)
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
        elif self.binary and self.scales == "split":
            alpha = None
            mean_abs_x = tf.reduce_mean(tf.abs(inputs), axis=-1, keepdims=True)
            proj = (self.cell.gain_x * float(self.input_dim) ** -0.5) * (mean_abs_x * proj)
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
            step,
            proj,
            states,
            go_backwards=self.go_backwards,
            return_all_outputs=False,
            unroll=self.unroll,
            input_length=self.time_steps,
        )
        return pooled_readout(self.readout, last, final, valid)

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
            "scales": self.scales,
        }
