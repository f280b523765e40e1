"""The trained float twin a BCRNN distills from (`train.teacher`), checked before training starts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ser_bnn.config import Config
from ser_bnn.errors import SerBnnError
from ser_bnn.training.rundir import load_trained


def load_teacher(t, cfg: Config, fold_name: str, test_speakers) -> object:  # noqa: ANN001
    """The trained float twin to distill from: `t.teacher`, or its fold directory of the same name
    (a LOSO teacher run holds one directory per fold). It must not have seen the fold's test speakers."""
    if not t.teacher:
        return None
    path = Path(t.teacher)
    if (path / fold_name / "config.json").is_file():
        path = path / fold_name
    try:
        split = json.loads((path / "split.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise SerBnnError(f"teacher {path} is not a run directory (no readable split.json)") from None
    seen = set(split.get("train_speakers", [])) | set(split.get("dev_speakers", []))
    leaked = sorted(seen & set(test_speakers))
    if leaked:
        raise SerBnnError(f"teacher {path} was trained on test speaker(s) {' '.join(leaked)} of this fold")
    teacher, tcfg = load_trained(path)
    real = not tcfg.model.binary or not tcfg.model.binary_weights  # a float twin, or stage 1 of two
    if not real or _no_stats(tcfg.features) != _no_stats(cfg.features) or tcfg.labels != cfg.labels:
        raise SerBnnError(
            f"teacher {path} must be a float CRNN run (or a BCRNN with real weights, --real-weights) "
            "with the same features and labels"
        )
    shape = ("conv_filters", "lstm_units", "fc_units", "conv_kernel", "pool_size", "readout")
    diff = [f"{k} {getattr(tcfg.model, k)} vs {getattr(cfg.model, k)}" for k in shape
            if getattr(tcfg.model, k) != getattr(cfg.model, k)]  # fmt: skip
    if diff and t.teacher_init:
        raise SerBnnError(
            f"teacher {path} has another shape ({', '.join(diff)}): its weights cannot start this model; "
            "train the teacher with the same sizes or pass --no-teacher-init"
        )
    teacher.trainable = False
    return teacher


def _no_stats(fc):  # noqa: ANN001, ANN202
    return dataclasses.replace(fc, norm_mean=(), norm_std=())
