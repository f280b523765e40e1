"""Binary LSTM (paper eq. 8) against a direct NumPy implementation; both directions; float twin."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from conftest import lstm_with_weights, sign

from ser_bnn.nn.lstm import BinaryLSTM

B, T, CX, H = 3, 7, 10, 5


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def lstm_np(
    x: np.ndarray, wx: np.ndarray, wh: np.ndarray, b: np.ndarray, binary: bool, all_steps: bool = False
) -> np.ndarray:
    """Eq. 8: z = alpha * beta_t * (sign(W) . sign(d_t)) + b, d_t = [x_t, h_{t-1}], gates i, f, g, o.

    Returns the last h [B, H], or every h_t [B, T, H] with `all_steps`."""
    w = np.concatenate([wx, wh], axis=0)  # [(CX + H), 4H]: one matrix over the concatenated d_t
    alpha = np.abs(w).mean(axis=0)  # per gate unit
    h = np.zeros((x.shape[0], wh.shape[0]))
    c = np.zeros_like(h)
    hs = []
    for t in range(x.shape[1]):
        d = np.concatenate([x[:, t], h], axis=1)
        if binary:
            beta = np.abs(d).mean(axis=1, keepdims=True)
            z = alpha * beta * (sign(d) @ sign(w)) + b
        else:
            z = d @ w + b
        i, f, g, o = np.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1) if all_steps else h


def make_layer(binary: bool, go_backwards: bool, seed: int) -> tuple[BinaryLSTM, tuple[np.ndarray, ...]]:
    return lstm_with_weights(H, CX, T, binary, go_backwards, seed=seed)


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(B, T, CX)).astype(np.float32)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "float"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backward"])
def test_lstm_matches_numpy_eq8(x: np.ndarray, binary: bool, go_backwards: bool) -> None:
    layer, (wx, wh, b) = make_layer(binary, go_backwards, seed=1 + go_backwards)
    got = layer(x).numpy()
    seq = x[:, ::-1] if go_backwards else x
    want = lstm_np(seq.astype(np.float64), wx, wh, b, binary)
    assert got.shape == (B, H)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # every step matters: the final state depends on the first step read
    x2 = x.copy()
    first = -1 if go_backwards else 0
    x2[:, first] = -x2[:, first]
    assert not np.allclose(layer(x2).numpy(), got, atol=1e-6)


def test_float_twin_equals_keras_lstm(x: np.ndarray) -> None:
    layer, (wx, wh, b) = make_layer(False, False, seed=3)
    ref = keras.layers.LSTM(H)
    ref.build((None, T, CX))
    ref.set_weights([wx.astype(np.float32), wh.astype(np.float32), b.astype(np.float32)])
    np.testing.assert_allclose(layer(x).numpy(), ref(x).numpy(), rtol=1e-5, atol=1e-6)


def test_directions_have_own_weights_and_config(x: np.ndarray) -> None:
    fw, _ = make_layer(True, False, seed=4)
    bw, (wx, wh, b) = make_layer(True, True, seed=5)
    assert fw.get_config()["go_backwards"] is False and bw.get_config()["go_backwards"] is True
    ids_fw = {id(w) for w in fw.weights}
    assert not ids_fw & {id(w) for w in bw.weights}
    y_fw, y_bw = fw(x).numpy(), bw(x).numpy()
    # changing only the backward weights changes the backward output, not the forward one
    bw.cell.recurrent_proj.kernel.assign(-bw.cell.recurrent_proj.kernel)
    assert not np.allclose(bw(x).numpy(), y_bw, atol=1e-6)
    np.testing.assert_array_equal(fw(x).numpy(), y_fw)
    np.testing.assert_allclose(
        bw(x).numpy(), lstm_np(x[:, ::-1].astype(np.float64), wx, -wh, b, True), rtol=1e-5, atol=1e-5
    )


def test_lstm_runs_as_a_while_loop_not_unrolled(x: np.ndarray) -> None:
    layer, _ = make_layer(True, False, seed=6)
    graph = (
        tf.function(layer, autograph=False).get_concrete_function(tf.TensorSpec((B, T, CX), tf.float32)).graph
    )
    ops = [op.type for op in graph.get_operations()]
    assert "While" in ops or "StatelessWhile" in ops
    convs = [op for op in graph.get_operations() if op.type == "Conv2D"]
    assert len(convs) < T  # not one per step (keras.backend.rnn traces one extra step for shapes)
    # the input projection of all timesteps is one convolution outside the loop
    assert [c.outputs[0].shape.as_list() for c in convs].count([B, T, 1, 4 * H]) == 1


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backward"])
def test_unrolled_training_loop_equals_the_while_loop(x: np.ndarray, go_backwards: bool) -> None:
    """`unroll` (a training-speed option) gives the same outputs and gradients, with no While op,
    and the config (what export rebuilds from) does not carry it."""
    layer, _ = make_layer(True, go_backwards, seed=8)
    xt = tf.constant(x)

    def run() -> tuple[np.ndarray, list[np.ndarray]]:
        with tf.GradientTape() as tape:
            y = layer(xt)
            loss = tf.reduce_sum(y**2)
        return y.numpy(), [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)]

    y_loop, g_loop = run()
    layer.unroll = True
    y_unrolled, g_unrolled = run()
    np.testing.assert_allclose(y_unrolled, y_loop, rtol=1e-6, atol=1e-6)
    for a, b in zip(g_unrolled, g_loop, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    graph = tf.function(layer, autograph=False).get_concrete_function(tf.TensorSpec((B, T, CX))).graph
    assert not {"While", "StatelessWhile"} & {op.type for op in graph.get_operations()}
    assert "unroll" not in layer.get_config()


def test_lstm_gradients_reach_both_kernels_and_bias(x: np.ndarray) -> None:
    layer, _ = make_layer(True, True, seed=7)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x * 0.5) ** 2)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert len(grads) == 3
    for g in grads:
        assert g is not None and np.isfinite(g.numpy()).all() and np.abs(g.numpy()).sum() > 0


@pytest.mark.parametrize(
    ("binary", "options"),
    [
        (True, {}),
        (False, {}),
        (True, {"threshold": True, "estimator": "approx"}),
        (True, {"binary_weights": False}),
        (True, {"recurrent_bits": 2}),
        (True, {"norm": True}),
    ],
    ids=["binary", "float", "threshold-approx", "real-weights", "recurrent-2bit", "norm"],
)
def test_matmul_input_projection_equals_the_convolution(x: np.ndarray, binary: bool, options: dict) -> None:
    """`matmul_proj` (a training-speed option: the input projection as one MatMul, and the recurrent
    product as a MatMul with the quantized W_h computed once per sequence) gives the same outputs
    (bit-identical with binary weights: sums of +-1 are exact) and gradients, also with the
    binarization options; it keeps the 1x1 Conv2D out of the graph, and the config (what export
    rebuilds from) does not carry it."""
    layer, _ = make_layer(binary, False, seed=9)
    if options:
        layer = BinaryLSTM(H, binary=binary, **options)
        layer.build((None, T, CX))
        for w in layer.weights:
            low = 0.5 if "moving_variance" in w.name else -1.0  # a variance must be positive
            w.assign(np.random.default_rng(9).uniform(low, 1, w.shape).astype(np.float32))
    xt = tf.constant(x)

    def run() -> tuple[np.ndarray, list[np.ndarray]]:
        with tf.GradientTape() as tape:
            y = layer(xt)
            loss = tf.reduce_sum(y**2)
        return y.numpy(), [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)]

    y_conv, g_conv = run()
    layer.matmul_proj = True
    y_mm, g_mm = run()
    if binary and options.get("binary_weights", True):
        np.testing.assert_array_equal(y_mm, y_conv)
    np.testing.assert_allclose(y_mm, y_conv, rtol=1e-6, atol=1e-6)
    for a, b in zip(g_mm, g_conv, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    graph = tf.function(layer, autograph=False).get_concrete_function(tf.TensorSpec((B, T, CX))).graph
    shapes = [op.outputs[0].shape.as_list() for op in graph.get_operations() if op.type == "Conv2D"]
    assert [B, T, 1, 4 * H] not in shapes
    assert "matmul_proj" not in layer.get_config()
