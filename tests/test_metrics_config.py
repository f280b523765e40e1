from __future__ import annotations

import json

import numpy as np
import pytest

from ser_bnn.config import Config, FeatureConfig, ModelConfig
from ser_bnn.errors import ConfigError
from ser_bnn.metrics import confusion_matrix, plot_confusion, scores


def test_uar_is_mean_recall_and_wa_is_accuracy(tmp_path):
    y_true = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 0, 0, 1, 1, 0, 2, 2, 1, 1]
    cm = confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[3, 1, 0], [1, 1, 0], [0, 2, 2]]
    s = scores(cm, ["a", "b", "c"])
    assert s["uar"] == pytest.approx((0.75 + 0.5 + 0.5) / 3)
    assert s["wa"] == pytest.approx(0.6)
    assert s["per_class_recall"] == {"a": 0.75, "b": 0.5, "c": 0.5}
    plot_confusion(cm, ["a", "b", "c"], tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_config_json_round_trip(tmp_path):
    cfg = Config(model=ModelConfig(conv_filters=8, conv_kernel=(3, 3)), labels=("x", "y"))
    cfg.save(tmp_path / "config.json")
    back = Config.load(tmp_path / "config.json")
    assert back == cfg
    assert json.loads((tmp_path / "config.json").read_text())["features"]["n_mels"] == 40


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    (tmp_path / "c.json").write_text('{"model": {"conv_filterz": 3}}')
    with pytest.raises(ConfigError, match="conv_filterz"):
        Config.load(tmp_path / "c.json")
    (tmp_path / "d.json").write_text("{not json")
    with pytest.raises(ConfigError):
        Config.load(tmp_path / "d.json")
    with pytest.raises(ConfigError):
        FeatureConfig(n_fft=500).validate()
    with pytest.raises(ConfigError, match="lstm_scales"):
        ModelConfig(lstm_scales="both").validate()
    with pytest.raises(ConfigError, match="lstm_input_norm"):
        ModelConfig(lstm_scales="split", lstm_input_norm=True).validate()


def test_segment_samples_match_frames():
    cfg = FeatureConfig()
    assert cfg.segment_samples == 48000
    assert np.ceil(cfg.segment_samples / cfg.hop_length) == cfg.segment_frames
