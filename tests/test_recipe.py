"""Training recipe pieces: presets and CLI defaults from one place, schedule, weight decay, distillation,
augmentation, and the linear floor."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest

from ser_bnn.config import Config, TrainConfig
from ser_bnn.errors import ConfigError, SerBnnError
from ser_bnn.recipes import BCRNN_LSTM_UNITS, paper_config, preset

LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")


def _args(*argv: str) -> argparse.Namespace:
    from ser_bnn.commands import train

    p = argparse.ArgumentParser()
    train.add_arguments(p)
    return p.parse_args(list(argv))


def test_cli_defaults_are_the_config_defaults() -> None:
    from ser_bnn.commands.train import make_config

    cfg = make_config(_args(), LABELS)
    assert cfg.features == Config().features
    assert cfg.train == Config().train
    # the default preset: the paper's shape with a float first conv and, for the BCRNN, twice the
    # paper's LSTM units; decided by the geometric mean
    paper_shape = Config().model
    assert paper_shape.lstm_units == 128
    assert cfg.model == dataclasses.replace(
        paper_shape, n_classes=7, binary_first_layer=False, pooling="mean-log", lstm_units=BCRNN_LSTM_UNITS
    )
    assert cfg.model == dataclasses.replace(preset("default").model, n_classes=7)
    crnn_default = make_config(_args("--model", "crnn"), LABELS).model
    assert (crnn_default.name, crnn_default.lstm_units) == ("crnn", 128)
    assert not crnn_default.binary_first_layer
    assert crnn_default == dataclasses.replace(preset("default", "crnn").model, n_classes=7)
    paper = make_config(_args("--preset", "paper"), LABELS)
    assert paper.model.lstm_units == 128  # the paper's width
    assert paper.train == paper_config().train and paper.model.binary_first_layer
    assert paper.model.pooling == "max"  # the paper max-pools
    assert make_config(_args("--pooling", "max"), LABELS).model.pooling == "max"
    assert make_config(_args("--binary-first-layer"), LABELS).model.binary_first_layer
    assert not make_config(_args("--preset", "paper", "--float-first-layer"), LABELS).model.binary_first_layer
    with pytest.raises(ConfigError, match="contradict"):
        make_config(_args("--float-first-layer", "--binary-first-layer"), LABELS)
    crnn = make_config(_args("--model", "crnn", "--lr", "0.01", "--norm", "global"), LABELS)
    assert (crnn.model.binary, crnn.train.learning_rate, crnn.features.norm) == (False, 0.01, "global")
    wide = make_config(_args("--lstm-units", "256", "--conv-filters", "64"), LABELS).model
    assert (wide.lstm_units, wide.conv_filters) == (256, 64)


def test_cli_errors_name_the_flag() -> None:
    from ser_bnn.commands.train import make_config

    with pytest.raises(ConfigError, match="--epochs"):
        make_config(_args("--epochs", "0"), LABELS)
    with pytest.raises(ConfigError, match="--dropout"):
        make_config(_args("--dropout", "1.5"), LABELS)
    with pytest.raises(ConfigError, match="teacher"):
        make_config(_args("--distill-weight", "0.5"), LABELS)
    with pytest.raises(ConfigError, match="--no-teacher-init"):
        make_config(_args("--no-teacher-init"), LABELS)
    cfg = make_config(_args("--teacher", "runs/crnn", "--no-teacher-init"), LABELS)
    assert (cfg.train.teacher_init, cfg.train.distill_weight) == (False, 0.5)


def test_presets_and_validation() -> None:
    p = preset("paper")
    assert (p.train.learning_rate, p.train.batch_size, p.features.norm, p.model.readout) == (
        1e-5,
        40,
        "segment",
        "last",
    )
    with pytest.raises(ConfigError, match="preset"):
        preset("nosuch")
    with pytest.raises(ConfigError, match="speed_perturb"):
        TrainConfig(speed_perturb=(3.0,)).validate()
    with pytest.raises(ConfigError, match="labels"):
        Config(labels=("a", "b")).validate()


def test_lr_schedule_warms_up_then_decays() -> None:
    from ser_bnn.training.train import lr_at

    t = TrainConfig(epochs=10, learning_rate=1e-3, warmup_epochs=2, min_lr_ratio=0.05)
    lrs = [lr_at(t, e) for e in range(10)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[2] == pytest.approx(1e-3)
    assert lrs[-1] == pytest.approx(5e-5) and all(a >= b for a, b in zip(lrs[2:], lrs[3:], strict=False))
    assert lr_at(TrainConfig(lr_decay="none", warmup_epochs=0), 30) == 1e-3


def test_weight_decay_skips_binary_latent_weights() -> None:
    from ser_bnn.config import FeatureConfig, ModelConfig
    from ser_bnn.nn.models import build_model
    from ser_bnn.training.train import decayed_weights

    small = {"conv_filters": 4, "lstm_units": 4, "fc_units": 4}
    fc = FeatureConfig(segment_frames=20)
    b = {v.name for v in decayed_weights(build_model((ModelConfig(**small), fc)))}
    f = {v.name for v in decayed_weights(build_model((ModelConfig(name="crnn", **small), fc)))}
    assert b == {n for n in b if "classifier" in n} and len(b) == 1
    assert len(f) == 7  # conv, 2 directions x (input, recurrent), FC, classifier
    assert {n for n in f if "classifier" in n} and not any("bias" in n or "gamma" in n for n in f)


def test_distillation_loss_is_tempered_kl() -> None:
    from ser_bnn.training.losses import distill_loss

    rng = np.random.default_rng(0)
    t = rng.dirichlet(np.ones(7), size=4).astype(np.float32)
    s = rng.dirichlet(np.ones(7), size=4).astype(np.float32)
    got = distill_loss(s, t, 2.0).numpy()
    pt = t**0.5 / (t**0.5).sum(1, keepdims=True)
    ps = s**0.5 / (s**0.5).sum(1, keepdims=True)
    want = 4.0 * (pt * (np.log(pt) - np.log(ps))).sum(1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(distill_loss(t, t, 2.0).numpy(), 0.0, atol=1e-5)


def test_classification_loss_matches_numpy_and_keras() -> None:
    import tf_keras as keras

    from ser_bnn.training.losses import classification_loss

    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(7), size=5).astype(np.float32)
    y = rng.integers(0, 7, size=5).astype(np.int32)
    want = -np.log(p[np.arange(5), y])
    np.testing.assert_allclose(classification_loss(y, p).numpy(), want, rtol=1e-5)
    plain = keras.losses.sparse_categorical_crossentropy(y, p).numpy()
    np.testing.assert_allclose(classification_loss(y, p).numpy(), plain, rtol=1e-5)


def test_class_weights_balance() -> None:
    from ser_bnn.training.losses import class_weights

    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    w = class_weights(y, 4)
    assert w[3] == 0.0  # absent class
    assert np.isclose(sum(w[int(c)] for c in y) / len(y), 1.0)  # mean weight per example 1
    assert np.allclose([w[0] * 60, w[1] * 30, w[2] * 10], 100 / 3)  # each class weighs the same


def test_gain_shifts_signal_frames_only() -> None:
    from ser_bnn.data.augment import random_gain

    x = np.ones((3, 5, 4), np.float32)
    x[:, 3:] = 0.0
    std = np.array([1.0, 2.0, 4.0, 8.0], np.float32)
    out = random_gain(x, 6.0, std, np.random.default_rng(0))
    assert np.all(out[:, 3:] == 0.0)
    shift = (out - x)[:, :3]
    db = shift * std / (np.log(10) / 10)  # back to dB: one value per segment, within +-6
    assert np.allclose(db, db[:, :1, :1], atol=1e-4) and np.abs(db).max() <= 6.0 + 1e-4


def test_linear_floor_beats_chance_on_the_fixed_split(emodb_dir, tmp_path) -> None:
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.splits import make_folds
    from ser_bnn.training.baseline import floor_for_fold

    corpus = load_corpus("emodb", emodb_dir)
    fold = make_folds(corpus, "fixed", dev_speakers=2)[0]
    cfg = Config(labels=corpus.labels)
    out = floor_for_fold(cfg, fold, tmp_path)
    assert out["n_test_utterances"] == 231 and out["norm"] == "speaker"
    assert out["uar"] > 0.6  # chance is 1/7; utterance statistics of speaker-normalized log-Mel


def test_teacher_that_saw_a_test_speaker_is_refused(tmp_path) -> None:
    import json

    from ser_bnn.training.teacher import load_teacher as _teacher

    run = tmp_path / "teacher"
    (run / "loso-03").mkdir(parents=True)
    (run / "loso-03" / "config.json").write_text("{}")
    split = {"train_speakers": ["08", "09"], "dev_speakers": ["10"]}
    (run / "loso-03" / "split.json").write_text(json.dumps(split))
    t = TrainConfig(teacher=str(run), distill_weight=0.5)
    with pytest.raises(SerBnnError, match="test speaker.*10"):
        _teacher(t, Config(), "loso-03", ("10",))  # the fold directory of a LOSO teacher is used
    with pytest.raises(SerBnnError, match="no readable split.json"):
        _teacher(t, Config(), "loso-99", ("10",))


def test_teacher_of_another_width_cannot_start_the_student(tmp_path, emodb_dir) -> None:
    """The default BCRNN is wider than its CRNN twin: starting from the twin's weights is refused with
    one line (not a Keras shape error); distilling without the start is allowed."""
    from run_fixture import make_tiny_run

    from ser_bnn.training.teacher import load_teacher as _teacher

    run = make_tiny_run(tmp_path / "crnn", emodb_dir, tmp_path / "cache", binary=False)
    tcfg = Config.load(run / "config.json")
    same = dataclasses.replace(tcfg, model=dataclasses.replace(tcfg.model, name="bcrnn"))
    wide = dataclasses.replace(same, model=dataclasses.replace(same.model, lstm_units=16))
    t = TrainConfig(teacher=str(run), distill_weight=0.5)
    assert _teacher(t, same, "tiny", ("15",)) is not None
    with pytest.raises(SerBnnError, match="another shape .*lstm_units 8 vs 16.*--no-teacher-init"):
        _teacher(t, wide, "tiny", ("15",))
    assert _teacher(dataclasses.replace(t, teacher_init=False), wide, "tiny", ("15",)) is not None
