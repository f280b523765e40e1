"""Binary LSTM (paper eq. 8) against a direct NumPy implementation; both directions; float twin."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from conftest import lstm_with_weights, sign

from ser_bnn.lstm import BinaryLSTM

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


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "float"])
def test_input_norm_lstm_matches_numpy(x: np.ndarray, binary: bool) -> None:
    """`input_norm`: z = BN(sign(W_x) . sign(x_t)) + alpha_h * mean|h| * (sign(W_h) . sign(h)) + b,
    BN in inference mode with set statistics; alpha_h = mean |W_h| per gate unit."""
    rng = np.random.default_rng(5)
    layer = BinaryLSTM(H, binary=binary, input_norm=True)
    layer.build((None, T, CX))
    wx, wh = rng.uniform(-1, 1, (CX, 4 * H)), rng.uniform(-1, 1, (H, 4 * H))
    b = rng.normal(scale=0.3, size=4 * H)
    gamma, beta = rng.uniform(0.5, 1.5, 4 * H), rng.normal(size=4 * H)
    mean, var = rng.normal(size=4 * H), rng.uniform(1, 9, 4 * H)
    layer.input_proj.kernel.assign(wx[None, None].astype(np.float32))
    layer.cell.recurrent_proj.kernel.assign(wh[None, None].astype(np.float32))
    layer.cell.bias.assign(b.astype(np.float32))
    layer.input_bn.set_weights([a.astype(np.float32) for a in (gamma, beta, mean, var)])
    got = layer(x, training=False).numpy()
    q = sign if binary else (lambda a: a)
    xp = q(x.astype(np.float64)) @ q(wx)
    xn = (xp - mean) / np.sqrt(var + 1e-3) * gamma + beta
    alpha_h = np.abs(wh).mean(axis=0)
    h = np.zeros((B, H))
    c = np.zeros_like(h)
    for t in range(T):
        rec = alpha_h * np.abs(h).mean(axis=1, keepdims=True) * (sign(h) @ sign(wh)) if binary else h @ wh
        i, f, g, o = np.split(xn[:, t] + rec + b, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    np.testing.assert_allclose(got, h, atol=2e-5)
    assert BinaryLSTM.from_config(layer.get_config()).input_norm


def test_input_levels_average_the_thermometer_products(x: np.ndarray) -> None:
    """`input_levels=k`: the input half is mean_j sign(x_t - t_j) . sign(W_x), t_j the k thermometer
    thresholds; beta, alpha and the recurrent half as in eq. 8. The float twin ignores the levels."""
    from ser_bnn.thermometer import thresholds

    rng = np.random.default_rng(6)
    wx, wh = rng.uniform(-1, 1, (CX, 4 * H)), rng.uniform(-1, 1, (H, 4 * H))
    b = rng.normal(scale=0.3, size=4 * H)
    layer = BinaryLSTM(H, binary=True, input_levels=3)
    layer.build((None, T, CX))
    layer.input_proj.kernel.assign(wx[None, None].astype(np.float32))
    layer.cell.recurrent_proj.kernel.assign(wh[None, None].astype(np.float32))
    layer.cell.bias.assign(b.astype(np.float32))
    got = layer(x).numpy()
    t = thresholds(3)
    x64 = x.astype(np.float64)
    codes = np.mean([sign(x64 - tj) for tj in t], axis=0)  # [B, T, CX] in {-1, -1/3, 1/3, 1}
    alpha = np.abs(np.concatenate([wx, wh])).mean(axis=0)
    h, c = np.zeros((B, H)), np.zeros((B, H))
    for step in range(T):
        beta = (CX * np.abs(x64[:, step]).mean(1, keepdims=True) + H * np.abs(h).mean(1, keepdims=True)) / (
            CX + H
        )
        z = alpha * beta * (codes[:, step] @ sign(wx) + sign(h) @ sign(wh)) + b
        i, f, g, o = np.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    np.testing.assert_allclose(got, h, atol=2e-5)
    assert BinaryLSTM.from_config(layer.get_config()).input_levels == 3
    assert layer.mac_counts()[0] == T * 4 * H * (3 * CX + H)
    twin = BinaryLSTM(H, binary=False, input_levels=3)
    assert twin(x).shape == (B, H) and twin.mac_counts() == (0, T * 4 * H * (CX + H))


def lstm_np_split(
    x: np.ndarray, wx: np.ndarray, wh: np.ndarray, b: np.ndarray, gx: np.ndarray, gh: np.ndarray
) -> np.ndarray:
    """Split scales: z = g_x mean|x_t| sign(x_t) sign(W_x) / sqrt(C)
    + g_h mean|h| sign(h) sign(W_h) / sqrt(H) + b."""
    h = np.zeros((x.shape[0], wh.shape[0]))
    c = np.zeros_like(h)
    for t in range(x.shape[1]):
        xt = x[:, t]
        zx = gx * np.abs(xt).mean(axis=1, keepdims=True) * (sign(xt) @ sign(wx)) / np.sqrt(wx.shape[0])
        zh = gh * np.abs(h).mean(axis=1, keepdims=True) * (sign(h) @ sign(wh)) / np.sqrt(wh.shape[0])
        i, f, g, o = np.split(zx + zh + b, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backward"])
def test_split_scales_match_numpy(x: np.ndarray, go_backwards: bool) -> None:
    layer, (wx, wh, b) = lstm_with_weights(H, CX, T, True, go_backwards, seed=7, scales="split")
    rng = np.random.default_rng(8)
    gx, gh = rng.uniform(0.5, 3.0, size=(2, 4 * H))
    layer.cell.gain_x.assign(gx.astype(np.float32))
    layer.cell.gain_h.assign(gh.astype(np.float32))
    seq = x[:, ::-1] if go_backwards else x
    np.testing.assert_allclose(
        layer(x).numpy(), lstm_np_split(seq.astype(np.float64), wx, wh, b, gx, gh), rtol=1e-5, atol=1e-5
    )
    # the recurrent gain acts: scaling it changes the output
    layer.cell.gain_h.assign(2 * gh.astype(np.float32))
    assert not np.allclose(layer(x).numpy(), lstm_np_split(seq, wx, wh, b, gx, gh), atol=1e-4)


def test_split_scales_are_learned_and_validated() -> None:
    layer, _ = lstm_with_weights(H, CX, T, True, seed=9, scales="split")
    names = {w.name.split("/")[-1].split(":")[0] for w in layer.trainable_weights}
    assert {"gain_x", "gain_h"} <= names
    assert BinaryLSTM.from_config(layer.get_config()).scales == "split"
    float_twin, _ = lstm_with_weights(H, CX, T, False, seed=9, scales="split")  # float: no gains
    assert not any("gain" in w.name for w in float_twin.weights)
    with pytest.raises(ValueError, match="scales"):
        BinaryLSTM(H, scales="other")
    with pytest.raises(ValueError, match="choose one"):
        BinaryLSTM(H, scales="split", input_norm=True)
