"""Sign quantizer with straight-through estimator, and latent-weight clipping."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ser_bnn.nn.quantizers import binary_quantizer, ste_sign, weight_clip

VALUES = np.array([-3.0, -1.5, -1.0, -0.7, -1e-7, 0.0, 1e-7, 0.3, 1.0, 1.0001, 2.0, 50.0], np.float32)


def _forward_and_grad(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = fn(v)
        loss = tf.reduce_sum(y * tf.range(1.0, len(x) + 1.0))  # distinct upstream gradient per element
    return y.numpy(), tape.gradient(loss, v).numpy()


@pytest.mark.parametrize("fn", [ste_sign, binary_quantizer(True)], ids=["function", "SteSign layer"])
def test_sign_forward_is_plus_minus_one_with_sign_zero_positive(fn) -> None:
    y, _ = _forward_and_grad(fn, VALUES)
    expected = np.where(VALUES >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(y, expected)
    assert y[list(VALUES).index(0.0)] == 1.0


@pytest.mark.parametrize("fn", [ste_sign, binary_quantizer(True)], ids=["function", "SteSign layer"])
def test_ste_gradient_passes_inside_unit_interval_and_is_zero_outside(fn) -> None:
    _, g = _forward_and_grad(fn, VALUES)
    upstream = np.arange(1.0, len(VALUES) + 1.0, dtype=np.float32)
    inside = np.abs(VALUES) <= 1.0
    np.testing.assert_array_equal(g[inside], upstream[inside])
    np.testing.assert_array_equal(g[~inside], 0.0)
    assert inside.sum() >= 5 and (~inside).sum() >= 5


def test_float_twin_has_no_quantizer_or_constraint() -> None:
    assert binary_quantizer(False) is None
    assert weight_clip(False) is None


def test_weight_clip_keeps_latent_weights_in_unit_interval_during_training() -> None:
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(
        4,
        use_bias=False,
        kernel_initializer=keras.initializers.RandomUniform(-0.9, 0.9),
        kernel_constraint=weight_clip(True),
    )
    x = tf.constant(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32))
    layer(x)
    opt = keras.optimizers.SGD(learning_rate=10.0)  # huge steps push weights far outside [-1, 1]
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2) - tf.reduce_sum(layer(x))
        opt.apply_gradients(
            zip(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights, strict=True)
        )
    w = layer.kernel.numpy()
    assert np.abs(w).max() <= 1.0
    assert np.isclose(np.abs(w), 1.0).any()  # the clip was actually hit
    np.testing.assert_array_equal(weight_clip(True)(tf.constant(VALUES)).numpy(), np.clip(VALUES, -1, 1))
