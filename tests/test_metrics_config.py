from __future__ import annotations

import json

import numpy as np
import pytest

from ser_bnn.config import Config, FeatureConfig, ModelConfig
from ser_bnn.errors import ConfigError
from ser_bnn.training.metrics import confusion_matrix, plot_confusion, scores


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
    with pytest.raises(ConfigError, match="readout"):
        ModelConfig(readout="meanstd").validate()


def test_configs_with_retired_options_load_only_when_unused(tmp_path):
    """Options removed after their ablation found no gain: a saved config.json that holds one at its
    "off" value (every run trained before the removal) loads; one that used it is refused in one line
    naming the option, its flag and the last commit that has it."""
    from ser_bnn.config import RETIRED, RETIRED_AFTER

    old = Config().to_dict()
    for (section, name), (off, _flag) in RETIRED.items():
        old[section][name] = off
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert Config.load(tmp_path / "old.json") == Config()
    for (section, name), (off, flag) in RETIRED.items():
        used = Config().to_dict()
        used[section][name] = 7 if isinstance(off, (int, float)) and not isinstance(off, bool) else "split"
        if isinstance(off, bool):
            used[section][name] = not off
        (tmp_path / "used.json").write_text(json.dumps(used))
        with pytest.raises(ConfigError) as e:
            Config.load(tmp_path / "used.json")
        msg = str(e.value)
        assert f"{section}.{name}=" in msg and flag in msg and RETIRED_AFTER in msg and "\n" not in msg
    meanstd = Config().to_dict()
    meanstd["model"]["readout"] = "meanstd"
    (tmp_path / "meanstd.json").write_text(json.dumps(meanstd))
    with pytest.raises(ConfigError, match=f"--readout meanstd.*{RETIRED_AFTER}"):
        Config.load(tmp_path / "meanstd.json")


def test_segment_samples_match_frames():
    cfg = FeatureConfig()
    assert cfg.segment_samples == 48000
    assert np.ceil(cfg.segment_samples / cfg.hop_length) == cfg.segment_frames
