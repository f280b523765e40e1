"""BCRNN / CRNN factory: shapes, save/reload round trips, size summary, training on real Emo-DB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from ser_bnn.config import Config, FeatureConfig, ModelConfig
from ser_bnn.errors import ConfigError, ExportError, SerBnnError
from ser_bnn.nn.models import build_model, load_model, rebuild_for_export
from ser_bnn.nn.summary import format_summary, model_summary

EMODB_LABELS = "WLEAFTN"  # Emo-DB emotion letter (6th character of the file name)


def config(name: str, n_classes: int = 7, small: bool = False, frames: int = 300) -> Config:
    sizes = {"conv_filters": 8, "lstm_units": 8, "fc_units": 8} if small else {}
    return Config(
        model=ModelConfig(name=name, n_classes=n_classes, **sizes),
        features=FeatureConfig(segment_frames=frames, norm="segment"),
    )


@pytest.mark.parametrize("name", ["bcrnn", "crnn"])
@pytest.mark.parametrize("n_classes", [7, 5], ids=["emodb", "iemocap"])
def test_builds_at_paper_size_and_outputs_probabilities(name: str, n_classes: int) -> None:
    cfg = config(name, n_classes)
    model = build_model(cfg)
    assert model.name == name
    assert model.input_shape == (None, 300, 40) and model.output_shape == (None, n_classes)
    names = {layer.name: layer for layer in model.layers}
    assert names["bconv"].binary is (name == "bcrnn") and names["bfc"].binary is (name == "bcrnn")
    assert names["blstm_fw"].go_backwards is False and names["blstm_bw"].go_backwards is True
    x = np.random.default_rng(0).normal(size=(2, 300, 40)).astype(np.float32)
    p = model(x, training=False).numpy()
    assert p.shape == (2, n_classes)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_name_binary_mismatch_and_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="binary"):
        Config.from_dict({"model": {"name": "crnn", "binary": True}})  # a config written by hand
    with pytest.raises(ConfigError):
        build_model(Config(model=ModelConfig(dropout=1.5)))
    with pytest.raises(ConfigError):
        build_model(Config(model=ModelConfig(name="cnn")))
    with pytest.raises(ConfigError):
        build_model("bcrnn")  # type: ignore[arg-type]


def test_lstm_class_is_a_parameter_of_the_factory() -> None:
    """Graph variants build the same network with a BinaryLSTM subclass, without patching `models`."""
    from ser_bnn.nn.lstm import BinaryLSTM

    class Variant(BinaryLSTM):
        pass

    cfg = config("bcrnn", small=True, frames=40)
    model = build_model(cfg, lstm_class=Variant)
    assert type(model.get_layer("blstm_fw")) is Variant and type(model.get_layer("blstm_bw")) is Variant
    assert type(build_model(cfg).get_layer("blstm_fw")) is BinaryLSTM  # the default is untouched
    with pytest.raises(ConfigError, match="lstm_class"):
        build_model(cfg, lstm_class=keras.layers.LSTM)


def test_binary_first_layer_false_gives_float_conv_in_binary_model() -> None:
    mc = ModelConfig(binary_first_layer=False, conv_filters=8, lstm_units=8, fc_units=8)
    model = build_model((mc, FeatureConfig(segment_frames=40)))
    layers = {layer.name: layer for layer in model.layers}
    assert layers["bconv"].binary is False and layers["blstm_fw"].binary is True


def test_float_lstm_and_fc_flags_keep_those_layers_float() -> None:
    fc = FeatureConfig(segment_frames=40)
    small = {"conv_filters": 8, "lstm_units": 8, "fc_units": 8}
    layers = {ly.name: ly for ly in build_model((ModelConfig(binary_lstm=False, **small), fc)).layers}
    assert layers["bconv"].binary and layers["bfc"].binary
    assert not layers["blstm_fw"].binary and not layers["blstm_bw"].binary
    layers = {ly.name: ly for ly in build_model((ModelConfig(binary_fc=False, **small), fc)).layers}
    assert layers["blstm_fw"].binary and not layers["bfc"].binary


def test_no_dropout_in_front_of_a_binary_fc() -> None:
    fc = FeatureConfig(segment_frames=40)
    small = {"conv_filters": 8, "lstm_units": 8, "fc_units": 8}
    names = {ly.name for ly in build_model((ModelConfig(**small), fc)).layers}
    assert "readout_dropout" not in names and "dropout" in names
    names = {ly.name for ly in build_model((ModelConfig(name="crnn", **small), fc)).layers}
    assert "readout_dropout" in names
    names = {ly.name for ly in build_model((ModelConfig(binary_fc=False, **small), fc)).layers}
    assert "readout_dropout" in names


def _randomize(model: keras.Model, seed: int) -> None:
    """Random weights and BatchNorm statistics (latent kernels inside [-1, 1], variances > 0)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        low = 0.5 if "moving_variance" in w.name else -1.0
        w.assign(rng.uniform(low, 1.0, size=w.shape).astype(np.float32))


@pytest.mark.parametrize("name", ["bcrnn", "crnn"])
def test_save_and_reload_round_trips(tmp_path: Path, name: str) -> None:
    cfg = config(name, small=True, frames=60)
    model = build_model(cfg)
    _randomize(model, seed=1)
    x = np.random.default_rng(1).normal(size=(3, 60, 40)).astype(np.float32)
    want = model(x, training=False).numpy()
    assert np.abs(want - want.mean(axis=0)).max() > 1e-4  # outputs depend on the input

    model.save_weights(tmp_path / "weights.h5")
    fresh = build_model(cfg)
    assert not np.array_equal(fresh(x, training=False).numpy(), want)
    fresh.load_weights(tmp_path / "weights.h5")
    np.testing.assert_array_equal(fresh(x, training=False).numpy(), want)

    fixed = rebuild_for_export(fresh, cfg, batch_size=1)
    assert fixed.input_shape == (1, 60, 40)
    got = np.concatenate([fixed(x[i : i + 1], training=False).numpy() for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)

    if name == "bcrnn":  # whole-model SavedModel (what training writes; the CRNN shares the code)
        model.save(tmp_path / "savedmodel", save_format="tf")
        reloaded = load_model(tmp_path / "savedmodel")
        np.testing.assert_array_equal(reloaded(x, training=False).numpy(), want)
        assert [w.name for w in reloaded.weights] == [w.name for w in model.weights]


def test_rebuild_for_export_rejects_other_architecture() -> None:
    model = build_model(config("bcrnn", small=True, frames=40))
    with pytest.raises(ExportError):
        rebuild_for_export(model, config("bcrnn", frames=40))


def test_load_model_missing_path_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SerBnnError, match="not found"):
        load_model(tmp_path / "nope")


def _expected_sizes(mc: ModelConfig, fc: FeatureConfig) -> dict[str, int]:
    """Independent count from the architecture description (paper section 3)."""
    t, f = fc.segment_frames, fc.n_mels
    kt, kf = mc.conv_kernel
    c, h, u, k = mc.conv_filters, mc.lstm_units, mc.fc_units, mc.n_classes
    lstm_in = (f // 2) * c
    binary_params = kt * kf * c + 2 * (lstm_in + h) * 4 * h + 2 * h * u
    float_params = 4 * c + c + 2 * 4 * h + 4 * u + u + u * k + k  # BN(4/ch), PReLU, LSTM bias, Dense
    binary_macs = t * f * kt * kf * c + 2 * (t // 2) * (lstm_in + h) * 4 * h + 2 * h * u
    float_macs = t * f * kt * kf + u * k  # XNOR K box filter, classifier
    return {
        "binary_params": binary_params,
        "float_params": float_params,
        "binary_macs": binary_macs,
        "float_macs": float_macs,
        "bitpacked_bytes": -(-binary_params // 8) + 4 * float_params,
    }


@pytest.mark.parametrize("n_classes", [7, 5])
def test_summary_at_paper_size(n_classes: int) -> None:
    cfg = config("bcrnn", n_classes)
    model = build_model(cfg)
    s = model_summary(model, cfg)
    want = _expected_sizes(cfg.model, cfg.features)
    for key, value in want.items():
        assert s[key] == value, key
    assert s["total_params"] == model.count_params()
    assert s["binary_mac_share"] >= 0.99
    # about 2.77 M binary weights: ~0.35 MB bit-packed vs ~11 MB in float32
    assert 300_000 < s["bitpacked_bytes"] < 400_000
    assert s["float32_bytes"] / s["bitpacked_bytes"] > 25
    text = format_summary(s)
    assert "binarized share of MACs" in text and "blstm_bw" in text

    crnn = config("crnn", n_classes)
    sc = model_summary(build_model(crnn), crnn)
    assert sc["binary_params"] == 0 and sc["binary_mac_share"] == 0.0
    assert sc["total_params"] == s["total_params"]
    assert sc["bitpacked_bytes"] == sc["float32_bytes"]


def _train_steps(
    model: keras.Model, x: np.ndarray, y: np.ndarray, steps: int, lr: float = 1e-3
) -> list[float]:
    """Plain Adam steps (autograph off: tracing tf_keras' fit machinery costs ~40 s per process)."""
    opt = keras.optimizers.Adam(lr)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(autograph=False)
    def step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        opt.apply_gradients(
            zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights, strict=True)
        )
        return loss

    return [float(step(tf.constant(x), tf.constant(y))) for _ in range(steps)]


def _emodb_features(emodb_dir: Path, per_class: int, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    from ser_bnn.data.audio import load_audio
    from ser_bnn.dsp.logmel import logmel_reference

    files = sorted((emodb_dir / "wav").glob("*.wav"))
    xs, ys = [], []
    for k, letter in enumerate(EMODB_LABELS):
        for p in [p for p in files if p.name[5] == letter][:per_class]:
            wave = load_audio(p, cfg.sample_rate)[: cfg.segment_samples]
            wave = np.pad(wave, (0, cfg.segment_samples - len(wave)))
            xs.append(logmel_reference(wave, cfg).astype(np.float32))
            ys.append(k)
    return np.stack(xs), np.array(ys, np.int32)


@pytest.mark.slow
def test_paper_size_bcrnn_trains_on_real_emodb_features(emodb_dir: Path) -> None:
    cfg = config("bcrnn")
    x, y = _emodb_features(emodb_dir, per_class=2, cfg=cfg.features)
    assert x.shape == (14, 300, 40) and np.isfinite(x).all()
    keras.utils.set_random_seed(0)
    model = build_model(cfg)
    before = [w.numpy().copy() for w in model.trainable_weights]
    losses = _train_steps(model, x, y, steps=5)
    assert np.isfinite(losses).all(), losses
    assert losses[-1] < losses[0]  # it fits these 14 segments
    p = model(x, training=False).numpy()
    assert np.isfinite(p).all()
    for w, b in zip(model.trainable_weights, before, strict=True):
        assert not np.array_equal(w.numpy(), b), w.name
    for layer in ("bconv", "blstm_fw", "blstm_bw", "bfc"):
        for w in model.get_layer(layer).weights:
            if "kernel" in w.name:
                assert np.abs(w.numpy()).max() <= 1.0, w.name  # latent weights stay clipped
