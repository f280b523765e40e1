"""Binary layers against NumPy references and their float twins (same code, quantizers off)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from conftest import sign

from ser_bnn.nn.layers import BinaryConv2D, BinaryDense, xnor_input_scale


def conv_same_np(x: np.ndarray, w: np.ndarray, pad_value: float) -> np.ndarray:
    """Direct 'same' convolution (cross-correlation) of [B,H,W,C] with [kh,kw,C,O], constant padding."""
    kh, kw, _, o = w.shape
    ph, pw = kh // 2, kw // 2
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=pad_value)
    b, h, wd, _ = x.shape
    out = np.zeros((b, h, wd, o))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("bhwc,co->bhwo", xp[:, i : i + h, j : j + wd, :], w[i, j])
    return out


def k_np(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """XNOR-Net K: channel mean of |x|, box-filtered with 1/(kh*kw), zero padding."""
    a = np.abs(x).mean(axis=-1, keepdims=True)
    return conv_same_np(a, np.full((kh, kw, 1, 1), 1.0 / (kh * kw)), 0.0)


def test_xnor_input_scale_matches_numpy_box_filter() -> None:
    x = np.random.default_rng(1).normal(size=(2, 9, 7, 3)).astype(np.float32)
    got = xnor_input_scale(tf.constant(x), (5, 3)).numpy()
    want = k_np(x.astype(np.float64), 5, 3)
    assert got.shape == (2, 9, 7, 1)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # interior values are plain window means; border ones are smaller (zero padding)
    assert np.isclose(got[0, 4, 3, 0], np.abs(x[0, 2:7, 2:5]).mean(), rtol=1e-6)


def _set_random_kernel(layer, rng: np.random.Generator) -> np.ndarray:
    k = rng.uniform(
        -1, 1, size=layer.conv.kernel.shape if hasattr(layer, "conv") else layer.proj.kernel.shape
    )
    (layer.conv if hasattr(layer, "conv") else layer.proj).kernel.assign(k.astype(np.float32))
    return k


def test_binary_conv_matches_numpy_reference_with_one_padding_and_k() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 10, 8, 2)).astype(np.float32)
    layer = BinaryConv2D(6, (5, 3), binary=True, xnor_input_scale=True)
    layer(x)
    w = _set_random_kernel(layer, rng)
    got = layer(x).numpy()
    want = conv_same_np(sign(x), sign(w), pad_value=1.0) * k_np(x.astype(np.float64), 5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # without K the output is the exact integer +-1 convolution
    layer_nok = BinaryConv2D(6, (5, 3), binary=True, xnor_input_scale=False)
    layer_nok(x)
    layer_nok.conv.kernel.assign(w.astype(np.float32))
    raw = layer_nok(x).numpy()
    np.testing.assert_array_equal(raw, conv_same_np(sign(x), sign(w), pad_value=1.0))
    assert np.all(raw == np.round(raw))


def test_binary_conv_equals_float_twin_on_sign_inputs_up_to_k() -> None:
    rng = np.random.default_rng(3)
    x = sign(rng.normal(size=(2, 10, 8, 3))).astype(np.float32)
    binary = BinaryConv2D(5, (5, 3), binary=True, xnor_input_scale=True)
    twin = BinaryConv2D(5, (5, 3), binary=False)
    binary(x)
    twin(x)
    w = _set_random_kernel(binary, rng)
    twin.conv.kernel.assign(sign(w).astype(np.float32))
    assert twin.conv.input_quantizer is None and twin.conv.kernel_quantizer is None
    yb, yf = binary(x).numpy(), twin(x).numpy()
    k = k_np(x.astype(np.float64), 5, 3)
    # away from the border (where binary pads with +1 and the twin with 0), K == 1 for +-1 inputs
    inner = (slice(None), slice(2, -2), slice(1, -1))
    np.testing.assert_allclose(k[inner], 1.0, rtol=1e-6)
    np.testing.assert_allclose(yb[inner], yf[inner], rtol=1e-6, atol=1e-5)
    # the float twin really is float: real inputs and weights are not binarized
    xr = rng.normal(size=x.shape).astype(np.float32)
    twin.conv.kernel.assign(w.astype(np.float32))
    np.testing.assert_allclose(twin(xr).numpy(), conv_same_np(xr, w, 0.0), rtol=1e-4, atol=1e-4)


def test_binary_dense_is_alpha_beta_times_sign_product_and_float_twin() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 12)).astype(np.float32)
    binary = BinaryDense(7, binary=True)
    twin = BinaryDense(7, binary=False)
    binary(x)
    twin(x)
    w = _set_random_kernel(binary, rng)  # [1, 1, 12, 7]
    alpha = np.abs(w).reshape(12, 7).mean(axis=0)
    beta = np.abs(x).mean(axis=1, keepdims=True)
    want = alpha * beta * (sign(x) @ sign(w).reshape(12, 7))
    np.testing.assert_allclose(binary(x).numpy(), want, rtol=1e-5, atol=1e-6)
    # float twin fed sign inputs and sign weights gives the unscaled +-1 product exactly
    twin.proj.kernel.assign(sign(w).astype(np.float32))
    np.testing.assert_array_equal(twin(sign(x).astype(np.float32)).numpy(), sign(x) @ sign(w).reshape(12, 7))
    twin.proj.kernel.assign(w.astype(np.float32))
    np.testing.assert_allclose(twin(x).numpy(), x @ w.reshape(12, 7), rtol=1e-5, atol=1e-5)


def test_binary_layers_serialize_their_config() -> None:
    for layer in (
        BinaryConv2D(4, (5, 3), binary=False, xnor_input_scale=False),
        BinaryDense(3, use_bias=True),
    ):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
