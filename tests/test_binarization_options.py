"""The binarization options of the accuracy work (`ModelConfig.sign_estimator`, `sign_threshold`,
`recurrent_bits`, `binary_weights`): what each computes, and that every exportable one converts with
every binary matmul bit-packed and matches Keras."""

from __future__ import annotations

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from ser_bnn.config import Config, ModelConfig
from ser_bnn.errors import ConfigError
from ser_bnn.nn.lstm import BinaryLSTMCell
from ser_bnn.nn.models import build_model
from ser_bnn.nn.quantizers import binary_quantizer
from ser_bnn.runtime.flatbuffer import inspect_tflite
from tests.test_convert import convert, inputs, interpreter_max_diff, small_config, trained_model

# every exportable option, alone: (model fields, binary products (LceBconv2d) in the flatbuffer)
EXPORTABLE = {
    "approx-sign": ({"sign_estimator": "approx"}, 6),
    "swish-sign": ({"sign_estimator": "swish"}, 6),
    "thresholds": ({"sign_threshold": True}, 6),
    "recurrent-2bit": ({"recurrent_bits": 2}, 6),
    "recurrent-norm": ({"recurrent_norm": True}, 6),
    "thresholds+2bit+float-conv": (
        {"sign_threshold": True, "recurrent_bits": 2, "binary_first_layer": False},
        5,
    ),
}


def _move_thresholds(model, seed: int) -> int:  # noqa: ANN001
    """Set every learned threshold to values far from its initial 0 (so that parity tests them)."""
    rng = np.random.default_rng(seed)
    n = 0
    for v in model.weights:
        name = v.name.split("/")[-1]
        if name.startswith("threshold"):
            v.assign(rng.uniform(-0.5, 0.5, size=v.shape).astype(np.float32))
            n += 1
        elif "norm_" in v.name and name.startswith(("moving_mean", "beta")):  # recurrent_norm statistics
            v.assign(rng.uniform(-2.0, 2.0, size=v.shape).astype(np.float32))
        elif "norm_" in v.name and name.startswith(("moving_variance", "gamma")):
            v.assign(rng.uniform(0.3, 4.0, size=v.shape).astype(np.float32))
    return n


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPORTABLE))
def test_option_converts_bitpacked_with_parity(name: str) -> None:
    fields, bconvs = EXPORTABLE[name]
    cfg = small_config("bcrnn", **fields)
    model = trained_model(cfg, seed=11)
    moved = _move_thresholds(model, 11)
    # conv input, LSTM input and recurrent input of both directions, FC input
    assert moved == (6 if fields.get("binary_first_layer", True) else 5) * bool(fields.get("sign_threshold"))
    fb = convert(model, cfg)
    info = inspect_tflite(fb)
    assert info["ops"].get("LceBconv2d") == bconvs and info["ops"].get("WHILE") == 2, info["ops"]
    assert not info["ops"].get("BATCH_MATMUL") and info["ops"].get("FULLY_CONNECTED") == 1, info["ops"]
    x = inputs()
    x[1, 25:] = 0.0  # a zero-padded last segment
    assert interpreter_max_diff(fb, model, x) <= 1e-5


def test_binarization_doc_table_matches_committed_results() -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "binarization.py"
    spec = importlib.util.spec_from_file_location("binarization_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = bench.load_all()
    assert results, "no committed diagnostics"
    text = bench.DOC.read_text()
    assert bench.doc_with_table(text, results) == text, "run python benchmarks/binarization.py --write-doc"
    assert "/work/" not in bench.table(results)


def test_estimators_keep_the_forward_sign_and_change_only_the_gradient() -> None:
    x = tf.constant([-2.0, -0.5, -0.0, 0.0, 0.25, 0.9, 1.5])
    grads = {}
    for est in ("ste", "approx", "swish"):
        q = binary_quantizer(True, est)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = q(x)
            total = tf.reduce_sum(y)
        np.testing.assert_array_equal(y.numpy(), [-1, -1, 1, 1, 1, 1, 1])
        grads[est] = tape.gradient(total, x).numpy()
    np.testing.assert_allclose(grads["ste"], [0, 1, 1, 1, 1, 1, 0])
    np.testing.assert_allclose(grads["approx"], [0, 1, 2, 2, 1.5, 0.2, 0], atol=1e-6)  # 2 - 2|x|
    assert grads["swish"][2] == grads["swish"].max() > grads["swish"][4] > 0  # smooth, peaked at 0
    with pytest.raises(ValueError, match="estimator"):
        binary_quantizer(True, "tanh")


def _cell(units: int, input_dim: int, **kw) -> BinaryLSTMCell:  # noqa: ANN003
    cell = BinaryLSTMCell(units, input_dim, **kw)
    cell.build([None, 4 * units + 1])
    return cell


def test_two_bit_recurrent_input_is_the_residual_binarization_of_h() -> None:
    units, c_x = 8, 24
    cell = _cell(units, c_x, recurrent_bits=2)
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, size=(1, 1, units, 4 * units)).astype(np.float32)
    cell.recurrent_proj.kernel.assign(w)
    cell.bias.assign(rng.normal(size=4 * units).astype(np.float32))
    h = rng.uniform(-0.9, 0.9, size=(3, units)).astype(np.float32)
    c = rng.normal(size=(3, units)).astype(np.float32)
    proj = rng.integers(-c_x, c_x, size=(3, 4 * units)).astype(np.float32)
    mean_abs_x = rng.uniform(0.2, 1.0, size=(3, 1)).astype(np.float32)
    alpha = rng.uniform(0.1, 1.0, size=(1, 4 * units)).astype(np.float32)
    out, _ = cell(np.concatenate([proj, mean_abs_x], 1), [h, c], alpha=alpha)

    sign = lambda v: np.where(v >= 0, 1.0, -1.0)  # noqa: E731
    wb = sign(w[0, 0])
    beta = (c_x * mean_abs_x + units * np.abs(h).mean(1, keepdims=True)) / (c_x + units)
    r = h - beta * sign(h)
    z = alpha * (beta * (proj + sign(h) @ wb) + np.abs(r).mean(1, keepdims=True) * (sign(r) @ wb))
    z = z + cell.bias.numpy()
    zi, zf, zg, zo = np.split(z, 4, axis=1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    want = sig(zo) * np.tanh(sig(zf) * c + sig(zi) * np.tanh(zg))
    np.testing.assert_allclose(out.numpy(), want, atol=1e-5)
    # the second plane carries information: without it the output differs
    one = _cell(units, c_x)
    one.recurrent_proj.kernel.assign(w)
    one.bias.assign(cell.bias)
    out1, _ = one(np.concatenate([proj, mean_abs_x], 1), [h, c], alpha=alpha)
    assert np.abs(out1.numpy() - out.numpy()).max() > 1e-3


def test_recurrent_threshold_lets_the_output_gate_reach_the_signs() -> None:
    """sign(h) = sign(c) whatever o is; sign(h - b) with b > 0 is +1 only where o * tanh(c) > b."""
    units = 4
    cell = _cell(units, 8, threshold=True)
    assert cell.shift is not None and np.all(cell.shift.numpy() == 0)
    cell.shift.assign(np.full(units, 0.3, np.float32))
    c = np.full((2, units), 2.0, np.float32)  # tanh(c) = 0.96
    o = np.array([[0.9] * units, [0.1] * units], np.float32)
    h = o * np.tanh(c)
    q = cell.recurrent_proj.input_quantizer
    assert np.all(q(h).numpy() == 1)  # plain sign: the gate is invisible
    bits = q(cell._shifted(tf.constant(h))).numpy()
    np.testing.assert_array_equal(bits, [[1] * units, [-1] * units])


def test_step_norm_uses_batch_statistics_in_training_and_shared_ones_at_inference() -> None:
    from ser_bnn.nn.layers import StepNorm

    norm = StepNorm(steps=4, momentum=0.9)
    norm.build([None, 3])
    x = tf.constant(np.random.default_rng(1).normal(2.0, 3.0, size=(64, 3)).astype(np.float32))
    y = norm(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 0.1, rtol=1e-3)  # gamma starts at 0.1
    keep = 0.9 ** (1 / 4)  # four steps move the averages as far as one Keras BatchNormalization batch
    np.testing.assert_allclose(norm.moving_mean.numpy(), (1 - keep) * x.numpy().mean(0), rtol=1e-5)
    for _ in range(3):
        norm(x, training=True)
    np.testing.assert_allclose(norm.moving_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-4)
    before = norm.moving_mean.numpy().copy()
    inf = norm(x, training=False).numpy()
    np.testing.assert_array_equal(norm.moving_mean.numpy(), before)  # inference never updates
    want = (x.numpy() - before) * 0.1 / np.sqrt(norm.moving_variance.numpy() + norm.epsilon)
    np.testing.assert_allclose(inf, want, rtol=1e-5)


def test_real_weights_stage_one_has_binary_inputs_and_real_kernels() -> None:
    cfg = small_config("bcrnn", binary_weights=False)
    model = build_model(cfg)
    binary_inputs = [
        s for s in model.submodules if isinstance(s, lq.layers.QuantConv2D) and s.input_quantizer is not None
    ]
    assert len(binary_inputs) == 6 and all(s.kernel_quantizer is None for s in binary_inputs)
    assert all(s.kernel_constraint is not None for s in binary_inputs)  # clipped, as stage 2 needs


@pytest.mark.parametrize(
    "fields, match",
    [
        ({"sign_estimator": "tanh"}, "sign_estimator"),
        ({"recurrent_bits": 3}, "recurrent_bits"),
        ({"recurrent_bits": 0}, "recurrent_bits"),
        ({"recurrent_bits": 2, "recurrent_norm": True}, "recurrent_norm"),
    ],
)
def test_bad_binarization_options_are_config_errors(fields: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Config(model=ModelConfig(**fields)).validate()
