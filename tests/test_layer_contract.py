"""The contract of every layer in ser_bnn/nn/layers.py and ser_bnn/nn/lstm.py, binary and float: its config
round-trips, `compute_output_shape` is the real output shape, and the float twin (`binary=False`)
computes what plain Keras computes with the same weights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tf_keras as keras
from conftest import lstm_with_weights

from ser_bnn.nn.layers import BinaryConv2D, BinaryDense, ValidSteps
from ser_bnn.nn.lstm import BinaryLSTM

B, T, C, H = 2, 6, 3, 4
X_SEQ = np.random.default_rng(0).normal(size=(B, T, C)).astype(np.float32)
VALID = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], np.float32)  # a padded tail, a full row


def _random_kernel(kernel: Any, seed: int) -> None:
    kernel.assign(np.random.default_rng(seed).uniform(-1, 1, size=kernel.shape).astype(np.float32))


def _conv(binary: bool) -> tuple[Any, Any, Callable[[Any], np.ndarray]]:
    layer = BinaryConv2D(4, (3, 3), binary=binary)
    x = np.random.default_rng(1).normal(size=(B, 5, 4, C)).astype(np.float32)
    layer(x)
    _random_kernel(layer.conv.kernel, 2)

    def keras_twin(layer: BinaryConv2D) -> np.ndarray:
        ref = keras.layers.Conv2D(4, (3, 3), padding="same", use_bias=False)
        ref.build(x.shape)
        ref.set_weights([layer.conv.kernel.numpy()])
        return ref(x).numpy()

    return layer, x, keras_twin


def _dense(binary: bool) -> tuple[Any, Any, Callable[[Any], np.ndarray]]:
    layer = BinaryDense(5, binary=binary)
    x = np.random.default_rng(3).normal(size=(B, 7)).astype(np.float32)
    layer(x)
    _random_kernel(layer.proj.kernel, 4)
    return layer, x, lambda layer: x @ layer.proj.kernel.numpy()[0, 0]


def _lstm(readout: str) -> Callable[[bool], tuple[Any, Any, Callable[[Any], np.ndarray]]]:
    def make(binary: bool) -> tuple[Any, Any, Callable[[Any], np.ndarray]]:
        layer, _ = lstm_with_weights(H, C, T, binary, readout=readout, seed=1)

        def keras_twin(layer: BinaryLSTM) -> np.ndarray:
            ref = keras.layers.LSTM(H, return_sequences=readout != "last")  # gates i, f, g, o as ours
            ref.build((None, T, C))
            kernel = layer.input_proj.kernel.numpy()[0, 0]  # [1, 1, C, 4H] -> [C, 4H]
            recurrent = layer.cell.recurrent_proj.kernel.numpy()[0, 0]  # [1, 1, H, 4H] -> [H, 4H]
            ref.set_weights([kernel, recurrent, layer.cell.bias.numpy()])
            hs = ref(X_SEQ).numpy().astype(np.float64)
            if readout == "last":
                return hs
            v = VALID[:, :, None]
            mean = (hs * v).sum(1) / v.sum(1)
            if readout == "mean":
                return mean
            var = np.maximum((hs**2 * v).sum(1) / v.sum(1) - mean**2, 0.0)
            return np.concatenate([mean, np.sqrt(var + 1e-6)], axis=1)

        return layer, (X_SEQ if readout == "last" else [X_SEQ, VALID]), keras_twin

    return make


def _valid_steps(binary: bool) -> tuple[Any, Any, None]:
    return ValidSteps(2), X_SEQ, None  # no weights, no binary mode: config and shape only


TWINS = {  # layers with a binary and a float mode
    "conv": _conv,
    "dense": _dense,
    "lstm_last": _lstm("last"),
    "lstm_mean": _lstm("mean"),
}
BUILDERS = {**TWINS, "valid_steps": _valid_steps}
MODES = {"binary": True, "float": False}
CASES = [
    *(pytest.param(name, b, id=f"{name}-{mode}") for name in TWINS for mode, b in MODES.items()),
    pytest.param("valid_steps", None, id="valid_steps"),
]


def _shape(x: Any) -> Any:
    return [tuple(t.shape) for t in x] if isinstance(x, list) else tuple(x.shape)


@pytest.mark.parametrize(("name", "binary"), CASES)
def test_layer_contract(name: str, binary: bool | None) -> None:
    layer, x, keras_twin = BUILDERS[name](binary)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    if binary is not None:
        assert config["binary"] is binary
    y = layer(x).numpy()
    assert layer.compute_output_shape(_shape(x)).as_list() == list(y.shape)
    if binary is False:
        np.testing.assert_allclose(y, keras_twin(layer), rtol=1e-5, atol=1e-5)
    elif binary:  # the binary layer is not its float twin
        assert not np.allclose(y, keras_twin(layer), atol=1e-3)
