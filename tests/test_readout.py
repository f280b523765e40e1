"""BiLSTM read-outs: mean / mean+std over time of the outputs, zero-padded steps excluded.

Checked against the NumPy LSTM of eq. 8 (tests/test_lstm_cell.py) in both directions, binary and
float, and through LCE conversion: the binary read-out keeps every matmul a bit-packed LceBconv2d
and the flatbuffer matches Keras on inputs with zero padding.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import lstm_with_weights
from test_lstm_cell import CX, H, T, lstm_np

from ser_bnn.nn.layers import ValidSteps
from ser_bnn.nn.lstm import BinaryLSTM


def _layer(binary: bool, go_backwards: bool, readout: str, seed: int = 0):
    return lstm_with_weights(H, CX, T, binary, go_backwards, readout, seed)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "float"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fw", "bw"])
def test_readout_is_the_mean_over_valid_steps(binary: bool, go_backwards: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, T, CX)).astype(np.float32)
    valid = np.ones((3, T), np.float32)
    valid[1, 4:] = 0.0  # a padded tail
    valid[2, 1:] = 0.0  # one valid step
    layer, (wx, wh, b) = _layer(binary, go_backwards, "mean")
    got = layer([x, valid]).numpy()
    xs, vs = (x[:, ::-1], valid[:, ::-1]) if go_backwards else (x, valid)
    hs = lstm_np(xs.astype(np.float64), wx, wh, b, binary, all_steps=True)  # [B, T, H] in processing order
    m = vs[:, :, None]
    mean = (hs * m).sum(1) / m.sum(1)
    assert got.shape == mean.shape == (3, H)
    np.testing.assert_allclose(got, mean, atol=2e-5)
    # the padded steps really are excluded: including them would change the mean
    assert np.abs(hs[1].mean(0) - mean[1]).max() > 1e-3


def test_valid_steps_marks_pooling_windows_with_signal() -> None:
    x = np.zeros((2, 8, 3), np.float32)
    x[0, :5] = 1.0  # frames 0-4 hold signal: windows 0, 1, 2 (frame 4) are valid
    x[1, 7, 2] = -0.5
    got = ValidSteps(2)(x).numpy()
    np.testing.assert_array_equal(got, [[1, 1, 1, 0], [0, 0, 0, 1]])


def test_readout_config_round_trip() -> None:
    layer, _ = _layer(True, True, "mean")
    again = BinaryLSTM.from_config(layer.get_config())
    assert (again.readout, again.go_backwards, again.units) == ("mean", True, H)
    assert layer.compute_output_shape([(None, T, CX), (None, T)]).as_list() == [None, H]
    for removed in ("max", "meanstd"):
        with pytest.raises(ValueError, match="readout"):
            BinaryLSTM(H, readout=removed)
