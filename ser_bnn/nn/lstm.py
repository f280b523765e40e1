"""The binary LSTM of the BCRNN (paper section 3.2.2, eq. 8), with its float twin (`binary=False`).

One direction is a `BinaryLSTM`: the input projection of all timesteps is one 1x1 binary
convolution before the loop (LCE bit-packs only 2-D convolutions), and `BinaryLSTMCell` adds the
recurrent projection (another 1x1 binary convolution) at every step. Scales multiply the +-1
products afterwards (see `ser_bnn.nn.layers`).

Scales (paper): z = alpha * beta_t * (P_t + R_t) + b, one alpha per gate unit over the
concatenated weights [W_x; W_h] and beta_t = mean |[x_t, h_{t-1}]|.

Binarization options (`ser_bnn.nn.layers.BinarizationOptions`): the sign's gradient estimator, learned
thresholds sign(x_t - b_x) and sign(h_{t-1} - b_h), real weights (stage 1 of two-stage training), and
`recurrent_bits=2`, a residual second sign plane of h_{t-1} (`BinaryLSTMCell._two_bit_gates`).

`norm=True` normalizes inside the recurrence (Ardakani et al., ICLR 2019; Hou et al., NeurIPS 2019):
z = N_x(P_t) + N_h(R_t) + b and h_t = o * tanh(N_c(c_t)), each N a batch normalization (`StepNorm`)
with batch statistics per step while training and statistics shared over time at inference (moving
averages updated at every step). It replaces the alpha * beta scales; at inference each N is one
per-channel multiply and add.
"""

from __future__ import annotations

from typing import Any

import larq as lq
import tensorflow as tf
import tf_keras as keras

from ser_bnn.nn.layers import BinarizationOptions, StepNorm, mean_abs_kernel, quant_conv


@keras.utils.register_keras_serializable(package="ser_bnn")
class BinaryLSTMCell(BinarizationOptions, keras.layers.Layer):
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
        self,
        units: int,
        input_dim: int,
        binary: bool = True,
        recurrent_bits: int = 1,
        estimator: str = "ste",
        threshold: bool = False,
        binary_weights: bool = True,
        norm: bool = False,
        steps: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_dim = int(input_dim)
        self.binary = bool(binary)
        if recurrent_bits not in (1, 2) or (norm and recurrent_bits != 1):
            raise ValueError(f"recurrent_bits must be 1 or 2 (1 with norm), got {recurrent_bits}")
        self.norm = bool(norm)
        self.steps = int(steps)
        names = ("norm_x", "norm_h", "norm_c")
        self.norms = [StepNorm(steps, center=n == "norm_c", name=n) for n in names] if self.norm else []
        self.recurrent_bits = int(recurrent_bits)
        self._init_binarization(estimator, threshold, binary_weights)
        self.state_size = [self.units, self.units]
        self.output_size = self.units
        self.recurrent_proj = quant_conv(
            4 * self.units, (1, 1), self.binary, name="recurrent_proj", kernel_initializer="orthogonal",
            estimator=estimator, binary_weights=binary_weights,
        )  # fmt: skip

    def build(self, input_shape: tf.TensorShape) -> None:
        with tf.name_scope(self.recurrent_proj.name):
            self.recurrent_proj.build([None, 1, 1, self.units])
        self.bias = self.add_weight(
            name="bias", shape=(4 * self.units,), initializer=_unit_forget_bias(self.units)
        )
        self._build_threshold(self.units)
        for n, width in zip(self.norms, (4 * self.units, 4 * self.units, self.units), strict=False):
            with tf.name_scope(n.name):
                n.build([None, width])
        super().build(input_shape)

    @tf.autograph.experimental.do_not_convert
    def call(
        self,
        inputs: tf.Tensor,
        states: list[tf.Tensor],
        alpha: tf.Tensor | None = None,
        rec_kernel: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> tuple[tf.Tensor, list[tf.Tensor]]:
        h, c = states[0], states[1]
        if self.norm:
            z = self._normalized_gates(inputs, self._shifted(h), rec_kernel, training)
        elif self.binary and self.recurrent_bits == 2:
            z = self._two_bit_gates(inputs, self._shifted(h), alpha, rec_kernel)
        else:
            z = self._gates(inputs, self._shifted(h), alpha, rec_kernel)
        zi, zf, zg, zo = tf.split(z, 4, axis=-1)
        c_new = tf.sigmoid(zf) * c + tf.sigmoid(zi) * tf.tanh(zg)
        c_out = self.norms[2](c_new, training=training) if self.norm else c_new
        h_new = tf.sigmoid(zo) * tf.tanh(c_out)
        return h_new, [h_new, c_new]

    def _product(self, h: tf.Tensor, rec_kernel: tf.Tensor | None) -> tf.Tensor:
        """The recurrent product [B, 4H] of `h` [B, H]: the 1x1 QuantConv2D that LCE bit-packs, or,
        with `rec_kernel` ([H, 4H], training only: the quantized kernel computed once per sequence by
        `BinaryLSTM`), a MatMul on the same +-1 values (identical sums, no sign of W_h per step)."""
        if rec_kernel is None:
            return self.recurrent_proj(h[:, None, None, :])[:, 0, 0, :]
        q = self.recurrent_proj.input_quantizer
        return tf.matmul(q(h) if q else h, rec_kernel)

    def _normalized_gates(
        self, inputs: tf.Tensor, h: tf.Tensor, rec_kernel: tf.Tensor | None, training: bool | None
    ) -> tf.Tensor:
        """z = N_x(P_t) + N_h(R_t) + b: each product batch-normalized (no alpha, beta scales)."""
        rec = self._product(h, rec_kernel)
        proj = inputs[:, : 4 * self.units]
        return self.norms[0](proj, training=training) + self.norms[1](rec, training=training) + self.bias

    def _gates(
        self, inputs: tf.Tensor, h: tf.Tensor, alpha: tf.Tensor | None, rec_kernel: tf.Tensor | None = None
    ) -> tf.Tensor:
        """Gate pre-activations [B, 4H] with a 1-bit recurrent input (`h` already shifted)."""
        n = 4 * self.units
        rec = self._product(h, rec_kernel)
        if not self.binary:
            return inputs + rec + self.bias
        proj, mean_abs_x = inputs[:, :n], inputs[:, n:]
        mean_abs_h = tf.reduce_mean(tf.abs(h), axis=-1, keepdims=True)
        beta = (self.input_dim * mean_abs_x + self.units * mean_abs_h) / (self.input_dim + self.units)
        return alpha * beta * (proj + rec) + self.bias

    def _two_bit_gates(
        self, inputs: tf.Tensor, h: tf.Tensor, alpha: tf.Tensor, rec_kernel: tf.Tensor | None = None
    ) -> tf.Tensor:
        """Gate pre-activations with a 2-bit recurrent input: residual binarization of h_{t-1}.

        The 1-bit product approximates [x_t, h] by beta * [sign x_t, sign h]; the second sign plane
        binarizes what that leaves of h, r = h - beta * sign(h), with its own scale mean|r|:
        z = alpha * (beta * (P_t + R1_t) + mean|r| * R2_t) + b. Both planes go through the same
        recurrent weights in one 1x1 binary convolution on [B, 1, 2, H] (one LceBconv2d, twice the
        recurrent binary MACs)."""
        n = 4 * self.units
        proj, mean_abs_x = inputs[:, :n], inputs[:, n:]
        mean_abs_h = tf.reduce_mean(tf.abs(h), axis=-1, keepdims=True)
        beta = (self.input_dim * mean_abs_x + self.units * mean_abs_h) / (self.input_dim + self.units)
        r = h - beta * self.recurrent_proj.input_quantizer(h)
        mean_abs_r = tf.reduce_mean(tf.abs(r), axis=-1, keepdims=True)
        if rec_kernel is None:  # one LceBconv2d over both planes
            rec = self.recurrent_proj(tf.stack([h, r], axis=1)[:, None])[:, 0]  # [B, 2, 4H]
            rec1, rec2 = rec[:, 0], rec[:, 1]
        else:
            rec1, rec2 = self._product(h, rec_kernel), self._product(r, rec_kernel)
        return alpha * (beta * (proj + rec1) + mean_abs_r * rec2) + self.bias

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "input_dim": self.input_dim,
            "binary": self.binary,
            "recurrent_bits": self.recurrent_bits,
            "norm": self.norm,
            "steps": self.steps,
            **self._binarization_config(),
        }


def _unit_forget_bias(units: int):
    def init(shape, dtype=None, **_: Any) -> tf.Tensor:
        return tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)

    return init


def pooled_readout(
    readout: str, last: tf.Tensor, final: list[tf.Tensor], valid: tf.Tensor | None
) -> tf.Tensor:
    """The read-out from a finished loop: the last state, or the mean over valid steps.

    `final` holds the loop's states [h, c, sum of v*h], `valid` the [B, T] step mask.
    """
    if valid is None or readout == "last":
        return last
    count = tf.maximum(tf.reduce_sum(valid, axis=1, keepdims=True), 1.0)
    return final[2] / count


@keras.utils.register_keras_serializable(package="ser_bnn")
class BinaryLSTM(BinarizationOptions, keras.layers.Layer):
    """One direction of the binary LSTM: [B, T, C] -> read-out [B, H].

    The input projection sign(W_x) . sign(x_t) for all T steps is one 1x1 binary QuantConv2D
    on [B, T, 1, C] outside the loop; `keras.backend.rnn` (the while loop behind
    `keras.layers.RNN`, not unrolled) runs `BinaryLSTMCell`. alpha = mean |[W_x; W_h]| per gate
    unit, from the latent weights, computed once before the loop. (`keras.layers.RNN` would
    need `constants=` for alpha, and a model with RNN constants cannot be saved as SavedModel,
    which the LCE converter does first.)
    `go_backwards=True` reads the sequence from the end. Build the two directions of a
    bidirectional layer as two instances (each with its own weights and config).

    Read-out: `last` returns the final hidden state (paper); `mean` takes inputs `[x, valid]` with
    `valid` [B, T] (1 for steps that hold signal, 0 for zero padding) and returns the mean of h_t
    over the valid steps. The sum is carried as an extra loop state, so the converted graph keeps
    one WHILE loop and no per-step output list.
    """

    def __init__(
        self,
        units: int,
        binary: bool = True,
        go_backwards: bool = False,
        readout: str = "last",
        recurrent_bits: int = 1,
        estimator: str = "ste",
        threshold: bool = False,
        binary_weights: bool = True,
        norm: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.norm = bool(norm)
        if readout not in ("last", "mean"):
            raise ValueError(f"readout must be 'last' or 'mean', got {readout!r}")
        self.units = int(units)
        self.binary = bool(binary)
        self.go_backwards = bool(go_backwards)
        self.readout = readout
        self.recurrent_bits = int(recurrent_bits)
        self._init_binarization(estimator, threshold, binary_weights)
        self.input_proj = quant_conv(
            4 * self.units, (1, 1), self.binary, name="input_proj", estimator=estimator,
            binary_weights=binary_weights,
        )  # fmt: skip
        self.cell: BinaryLSTMCell | None = None
        # training-speed options, not saved in the config (same weights and outputs; export builds
        # the model from its config, so it always converts the while loop and the 1x1 QuantConv2D):
        # run the time loop as unrolled steps instead of a while loop
        self.unroll = False
        # the input projection as one MatMul [B*T, C] x [C, 4H] on the same +-1 values instead of the
        # 1x1 convolution, and the recurrent product as a MatMul with sign(W_h) computed once per
        # sequence instead of at every step (identical sums; 0.91x and a further 0.75x CPU per
        # training step: benchmarks/train_speed.py, docs/RESULTS.md)
        self.matmul_proj = False

    def build(self, input_shape: Any) -> None:
        if self.readout != "last":
            input_shape = input_shape[0]
        input_shape = tf.TensorShape(input_shape)
        self.time_steps = input_shape[1]
        self.input_dim = int(input_shape[-1])
        with tf.name_scope(self.input_proj.name):
            self.input_proj.build([input_shape[0], input_shape[1], 1, self.input_dim])
        self.cell = BinaryLSTMCell(
            self.units, self.input_dim, binary=self.binary, recurrent_bits=self.recurrent_bits, name="cell",
            norm=self.norm, steps=self.time_steps or 1, **self._binarization_config(),
        )  # fmt: skip
        step_dim = 4 * self.units + (1 if self.binary else 0)
        with tf.name_scope(self.cell.name):
            self.cell.build([input_shape[0], step_dim])
        self._build_threshold(self.input_dim)
        super().build(input_shape)

    def alpha(self) -> tf.Tensor:
        """[1, 4H]: mean |W| over the concatenated input and recurrent weights of each gate unit
        (1 with real weights: they carry their own magnitude)."""
        if not self.binary_weights:
            return tf.ones([1, 4 * self.units])
        total = mean_abs_kernel(self.input_proj.kernel) + mean_abs_kernel(self.cell.recurrent_proj.kernel)
        return (total / (self.input_dim + self.units))[None, :]

    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: Any, training: bool | None = None) -> tf.Tensor:
        valid = None
        if self.readout != "last":
            inputs, valid = inputs
        inputs = self._shifted(inputs)
        if self.matmul_proj:
            proj = self._input_matmul(inputs)
        else:
            proj = tf.reduce_mean(self.input_proj(tf.expand_dims(inputs, 2)), axis=2)
        step_dim = 4 * self.units
        if self.binary:
            alpha = self.alpha()
            proj = tf.concat([proj, tf.reduce_mean(tf.abs(inputs), axis=-1, keepdims=True)], axis=-1)
            step_dim += 1
        else:
            alpha = None
        zeros = tf.zeros(tf.stack([tf.shape(inputs)[0], self.units]), dtype=inputs.dtype)
        states = [zeros, zeros]
        if valid is not None:
            proj = tf.concat([proj, valid[:, :, None]], axis=-1)
            states.append(zeros)

        rec_kernel = self._recurrent_kernel() if self.matmul_proj else None

        def step(x_t: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
            h, new = self.cell(x_t[:, :step_dim], states[:2], alpha=alpha, rec_kernel=rec_kernel)
            if valid is None:
                return h, new
            v = x_t[:, step_dim:]
            return h, [*new, states[2] + v * h]

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

    def _recurrent_kernel(self) -> tf.Tensor:
        """The recurrent kernel [H, 4H], computed once per sequence instead of at every step."""
        return matrix_kernel(self.cell.recurrent_proj)

    def _input_matmul(self, inputs: tf.Tensor) -> tf.Tensor:
        """The input projection of `input_proj` as a MatMul: the same quantizers (larq's
        QuantizedVariable returns the quantized kernel inside its quantized scope), [B, T, 4H]."""
        conv = self.input_proj
        with tf.name_scope(f"{conv.name}_matmul"):
            x = conv.input_quantizer(inputs) if conv.input_quantizer else inputs
            y = tf.matmul(tf.reshape(x, [-1, self.input_dim]), matrix_kernel(conv))
            return tf.reshape(y, tf.concat([tf.shape(inputs)[:2], [4 * self.units]], 0))

    def compute_output_shape(self, input_shape: Any) -> tf.TensorShape:
        if self.readout != "last":
            input_shape = input_shape[0]
        return tf.TensorShape([input_shape[0], self.units])

    def mac_counts(self) -> tuple[int, int]:
        """(binary MACs, float MACs) of the input and recurrent projections over all timesteps."""
        planes = self.recurrent_bits if self.binary else 1
        macs = self.time_steps * 4 * self.units * (self.input_dim + planes * self.units)
        return (macs, 0) if self.binary else (0, macs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "binary": self.binary,
            "go_backwards": self.go_backwards,
            "readout": self.readout,
            "recurrent_bits": self.recurrent_bits,
            "norm": self.norm,
            **self._binarization_config(),
        }


def matrix_kernel(conv: lq.layers.QuantConv2D) -> tf.Tensor:
    """The kernel of a 1x1 QuantConv2D as its convolution uses it (quantized, with the quantizer's
    gradient, for a binary one: larq's QuantizedVariable inside its quantized scope), as a
    [C_in, C_out] matrix for the training fast paths' MatMuls."""
    with lq.context.quantized_scope(True):
        kernel = tf.convert_to_tensor(conv.kernel)
    return tf.reshape(kernel, kernel.shape[-2:])


def set_training_fast_paths(model: keras.Model, on: bool) -> None:
    """Turn the training-speed options of every `BinaryLSTM` in `model` on or off (`matmul_proj`;
    same outputs and weights). Off before a model is saved whole, so a SavedModel holds the graph
    that export converts."""
    for layer in model.submodules:
        if isinstance(layer, BinaryLSTM):
            layer.matmul_proj = bool(on)
