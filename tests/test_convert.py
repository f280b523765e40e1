"""LCE conversion: every binary matmul becomes a bit-packed LceBconv2d, and the flatbuffer matches Keras."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ser_bnn.config import Config, FeatureConfig, ModelConfig
from ser_bnn.errors import ExportError
from ser_bnn.nn.models import build_model, rebuild_for_export
from ser_bnn.runtime.flatbuffer import inspect_tflite

T = 40  # frames: small sizes keep conversion fast; the paper sizes are in benchmarks/model_report.py
FLOAT_MATMULS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL")


def small_config(name: str, **model: object) -> Config:
    mc = ModelConfig(name=name, conv_filters=16, lstm_units=16, fc_units=16, **model)
    return Config(model=mc, features=FeatureConfig(segment_frames=T))


def trained_model(cfg: Config, seed: int = 0) -> keras.Model:
    """A model after a few Adam steps (weights and BN statistics off their initial values)."""
    keras.utils.set_random_seed(seed)
    model = build_model(cfg)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=(8, T, 40)).astype(np.float32))
    y = tf.constant(rng.integers(0, cfg.model.n_classes, size=8))
    opt = keras.optimizers.Adam(1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(autograph=False)
    def step() -> None:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(
            zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights, strict=True)
        )

    for _ in range(3):
        step()
    return model


@functools.cache
def plain_bconv_filter_bytes() -> int:
    """Bit-packed filter bytes of the small BCRNN with sign(x) inputs (untrained: sizes only)."""
    plain = small_config("bcrnn")
    return inspect_tflite(convert(build_model(plain), plain))["bconv_filter_bytes"]


def convert(model: keras.Model, cfg: Config) -> bytes:
    import larq_compute_engine as lce

    return lce.convert_keras_model(rebuild_for_export(model, cfg, batch_size=1))


def interpreter_max_diff(fb: bytes, model: keras.Model, x: np.ndarray) -> float:
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    # use_indirect_bgemm=True gives wrong results for the bconv inside the LSTM while loop (LCE 0.16)
    interp = Interpreter(fb, num_threads=1, use_xnnpack=True)
    got = np.concatenate([interp.predict(x[i : i + 1]) for i in range(len(x))])
    want = model(x, training=False).numpy()
    assert got.shape == want.shape
    return float(np.abs(got - want).max())


def inputs(n: int = 6) -> np.ndarray:
    """Standardized-log-Mel-like inputs: values of both signs around the STE clip range."""
    return np.random.default_rng(42).normal(size=(n, T, 40)).astype(np.float32)


@pytest.fixture(scope="module")
def bcrnn() -> tuple[Config, keras.Model, bytes]:
    cfg = small_config("bcrnn")
    model = trained_model(cfg)
    return cfg, model, convert(model, cfg)


@pytest.mark.slow
def test_every_binary_matmul_is_lce_bconv2d(bcrnn) -> None:
    _, _, fb = bcrnn
    info = inspect_tflite(fb)
    ops = info["ops"]
    # conv + LSTM input projections (fw, bw) + BFC in the main graph, recurrent projections in the loops
    assert ops.get("LceBconv2d") == 6, ops
    main = info["subgraphs"][0]["ops"]
    assert main["LceBconv2d"] == 4 and main["WHILE"] == 2
    bodies = [s for s in info["subgraphs"] if s["ops"].get("LceBconv2d")][1:]
    assert len(bodies) == 2 and all(s["ops"]["LceBconv2d"] == 1 for s in bodies)
    assert all(s["ops"].get("LceQuantize") == 1 for s in bodies)  # sign(h_{t-1}) per step
    # the only float matmuls: the XNOR-Net K box filter (1 -> 1 channel) and the softmax classifier
    assert ops.get("CONV_2D") == 1 and ops.get("FULLY_CONNECTED") == 1, ops
    assert not ops.get("DEPTHWISE_CONV_2D") and not ops.get("BATCH_MATMUL")
    # bit-packed filters: 32 binary weights per int32 word
    cfg = small_config("bcrnn")
    c, h, u = cfg.model.conv_filters, cfg.model.lstm_units, cfg.model.fc_units
    words = c * 15 * 1 + 2 * 4 * h * -(-(20 * c) // 32) + 2 * 4 * h * -(-h // 32) + u * -(-(2 * h) // 32)
    assert info["bconv_filter_bytes"] == 4 * words


@pytest.mark.slow
def test_lce_interpreter_matches_keras(bcrnn) -> None:
    cfg, model, fb = bcrnn
    x = inputs()
    assert interpreter_max_diff(fb, model, x) <= 1e-5
    # the model does depend on its input (not a constant output that would trivially match)
    p = model(x, training=False).numpy()
    assert np.abs(p - p.mean(axis=0)).max() > 1e-3


@pytest.mark.slow
def test_float_crnn_converts_with_lce_and_matches_keras() -> None:
    cfg = small_config("crnn")
    model = trained_model(cfg, seed=1)
    fb = convert(model, cfg)
    ops = inspect_tflite(fb)["ops"]
    assert not any(k.startswith("Lce") for k in ops), ops
    assert ops.get("WHILE") == 2 and "UNIDIRECTIONAL_SEQUENCE_LSTM" not in ops
    assert interpreter_max_diff(fb, model, inputs()) <= 1e-5


@pytest.mark.slow
def test_binary_first_layer_off_keeps_a_float_conv() -> None:
    cfg = small_config("bcrnn", binary_first_layer=False)
    model = trained_model(cfg, seed=2)
    fb = convert(model, cfg)
    ops = inspect_tflite(fb)["ops"]
    assert ops.get("LceBconv2d") == 5 and ops.get("CONV_2D") == 1, ops
    assert interpreter_max_diff(fb, model, inputs()) <= 1e-5


def test_inspect_rejects_garbage(tmp_path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(ExportError):
        inspect_tflite(bad)
    with pytest.raises(ExportError, match="not found"):
        inspect_tflite(tmp_path / "missing.tflite")


@pytest.mark.slow
@pytest.mark.parametrize("readout", ["mean", "last"])
def test_readouts_convert_bitpacked_with_parity_on_padded_inputs(readout: str) -> None:
    cfg = small_config("bcrnn", readout=readout)
    model = trained_model(cfg, seed=3)
    fb = convert(model, cfg)
    ops = inspect_tflite(fb)["ops"]
    assert ops.get("LceBconv2d") == 6 and ops.get("WHILE") == 2, ops
    x = inputs()
    x[1, 25:] = 0.0  # zero padding of a last segment, as the front end writes it
    x[2, 3:] = 0.0
    assert interpreter_max_diff(fb, model, x) <= 1e-5
