"""Recipes as data: every named setting is a difference from the `Config` defaults.

One registry holds the presets `ser-bnn train --preset` starts from and the variants of the ablation
(`benchmarks/ablation.py`). A difference maps "section.field" to a value, e.g.
{"model.readout": "last"}; applying it to a `Config` replaces those fields and nothing else.

- `PRESETS`: `default` (the best recipe measured) and `paper` (Zhao et al., ICASSP 2019).
- `VARIANTS`: ablation rows. Each is the default preset plus the ablation reference
  (`ABLATION_REFERENCE`: the paper's all-binary BCRNN with its 128 LSTM units) plus the variant's own
  changes, trained under `ABLATION_PROTOCOL` (2 dev speakers held out for model selection).
  `NAME+specaug` adds SpecAugment (`SUFFIXES`).
- `RETIRED_VARIANTS`: rows recorded with options removed since (their results stay; their code is in
  the commit named there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ser_bnn.config import RETIRED_AFTER, Config, ModelConfig
from ser_bnn.errors import ConfigError

Changes = Mapping[str, Any]  # "section.field" -> value

SECTIONS = ("features", "model", "train")

# units per direction of the BCRNN's binary BiLSTM in the default preset: twice the paper's 128, to
# make up for binarization's lost capacity as wider low-precision networks do (WRPN, Mishra et al.,
# ICLR 2018). Chosen on dev speakers (ablation rows `lstm256`: 65.2 +- 2.7 % dev UAR against
# 61.3 +- 0.9 with 128); it doubles the flatbuffer (0.43 -> 0.82 MB). The float CRNN keeps 128.
BCRNN_LSTM_UNITS = 256


@dataclass(frozen=True)
class Recipe:
    """A named difference from the `Config` defaults, with extra changes for one model type."""

    name: str
    doc: str
    changes: Changes = field(default_factory=dict)
    per_model: Mapping[str, Changes] = field(default_factory=dict)  # "bcrnn" / "crnn" -> changes

    def changes_for(self, model: str) -> dict[str, Any]:
        return {**self.changes, **self.per_model.get(model, {})}


PRESETS: dict[str, Recipe] = {
    "default": Recipe(
        "default",
        "The best recipe measured (README, `benchmarks/ablation.py`): the paper's BCRNN shape with its "
        "first conv in float (one 5x3x1x128 float kernel: binarizing the log-Mel input cost 3 points of "
        "dev UAR, and the 1-channel binary conv is the slowest op on x86) and, for the BCRNN, "
        "`BCRNN_LSTM_UNITS` binary LSTM units per direction; speaker standardization, mean read-out, "
        "dropout, augmentation and the schedule of `TrainConfig`; utterances decided by the geometric "
        "mean of their segments' posteriors (`benchmarks/pooling.py`).",
        {"model.binary_first_layer": False, "model.pooling": "mean-log"},
        {"bcrnn": {"model.lstm_units": BCRNN_LSTM_UNITS}},
    ),
    "paper": Recipe(
        "paper",
        "The paper's setting: per-segment online standardization, last-state read-out, no dropout, "
        "Adam lr 1e-5 at a constant rate, batch 40, non-overlapping segments, no augmentation.",
        {
            "features.norm": "segment",
            "model.readout": "last",
            "model.dropout": 0.0,
            "train.epochs": 40,
            "train.batch_size": 40,
            "train.learning_rate": 1e-5,
            "train.warmup_epochs": 0,
            "train.lr_decay": "none",
            "train.weight_decay": 0.0,
            "train.select_window": 1,
            "train.train_segment_hop_frames": 300,
            "train.dev_speakers": 1,
            "train.speed_perturb": (1.0,),
            "train.gain_db": 0.0,
            "train.spec_augment": False,
        },
    ),
}


def apply(cfg: Config, changes: Changes) -> Config:
    """`cfg` with the fields named in `changes` replaced (not validated)."""
    per_section: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for key, value in changes.items():
        section, _, name = key.partition(".")
        if section not in per_section:
            raise ConfigError(f"recipe change {key!r}: section must be one of {', '.join(SECTIONS)}")
        if name not in {f.name for f in dataclasses.fields(getattr(cfg, section))}:
            raise ConfigError(f"recipe change {key!r}: no such {section} field")
        per_section[section][name] = value
    return cfg.replace(
        **{s: dataclasses.replace(getattr(cfg, s), **kw) for s, kw in per_section.items() if kw}
    )


def preset(name: str, model: str = "bcrnn") -> Config:
    """A named experiment setting for `model` ("bcrnn" or "crnn"): `default` (the best recipe
    measured) or `paper`."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return apply(Config(model=ModelConfig(name=model)), PRESETS[name].changes_for(model))


def default_config(model: str = "bcrnn") -> Config:
    return preset("default", model)


def paper_config(model: str = "bcrnn") -> Config:
    return preset("paper", model)


# ---- the ablation -------------------------------------------------------------------------------

TEACHER_RUN = "{runs}/crnn-e{epochs}{seed}"  # the crnn variant's run of the same epochs and seed

# The ablation's reference row `default`: the paper's all-binary BCRNN (binary first conv, 128 units:
# rows recorded before the default preset changed these got them from the preset). A variant's
# changes win over it.
ABLATION_REFERENCE = Recipe(
    "reference",
    "the paper's all-binary BCRNN",
    per_model={"bcrnn": {"model.binary_first_layer": True, "model.lstm_units": 128}},
)
# The ablation's protocol: 2 of the 6 non-test speakers of the fixed split held out for model selection.
ABLATION_PROTOCOL = Recipe("protocol", "model selection on held-out speakers", {"train.dev_speakers": 2})


@dataclass(frozen=True)
class Variant:
    """One ablation row: `model` trained with `changes` on top of the default preset and the base."""

    model: str
    changes: Changes = field(default_factory=dict)
    doc: str = ""


def _kd(float_first_layer: bool = False, init: bool = True) -> Variant:
    changes: dict[str, Any] = {"train.teacher": TEACHER_RUN, "train.distill_weight": 0.5}
    if float_first_layer:
        changes["model.binary_first_layer"] = False
    if not init:
        changes["train.teacher_init"] = False
    return Variant("bcrnn", changes, "distilled from the crnn variant of the same epochs and seed")


FFL = {"model.binary_first_layer": False}
NO_AUG = {"train.speed_perturb": (1.0,), "train.gain_db": 0.0}
# the default BCRNN's shape (float first conv, 256 units): the base of the binarization candidates
DEFAULT_SHAPE = {**FFL, "model.lstm_units": BCRNN_LSTM_UNITS}
STAGE1_RUN = "{runs}/real-weights-e{epochs}{seed}"  # the real-weights variant's run, same epochs and seed

VARIANTS: dict[str, Variant] = {
    "default": Variant("bcrnn"),
    "specaug": Variant("bcrnn", {"train.spec_augment": True}),
    "no-aug": Variant("bcrnn", NO_AUG),
    "no-dropout": Variant("bcrnn", {"model.dropout": 0.0}),
    "float-first-layer": Variant("bcrnn", FFL),
    "float-lstm": Variant("bcrnn", {"model.binary_lstm": False}),
    "float-fc": Variant("bcrnn", {"model.binary_fc": False}),
    "float-ends": Variant("bcrnn", {**FFL, "model.binary_fc": False}),
    "lstm256": Variant("bcrnn", {**FFL, "model.lstm_units": 256}, "the default since 12-04"),
    "lstm512": Variant("bcrnn", {**FFL, "model.lstm_units": 512}),
    "lr1e-2": Variant("bcrnn", {"train.learning_rate": 0.01}),
    "batch8": Variant("bcrnn", {"train.batch_size": 8}),
    "kd": _kd(),
    "kd-noinit": _kd(init=False),
    "kd-ffl": _kd(float_first_layer=True),
    "kd-ffl-noinit": _kd(float_first_layer=True, init=False),
    # binarization candidates (docs/BINARIZATION.md): each on top of the default BCRNN's shape
    "thresholds": Variant(
        "bcrnn", {**DEFAULT_SHAPE, "model.sign_threshold": True}, "learned thresholds before every sign"
    ),
    "recurrent-2bit": Variant(
        "bcrnn", {**DEFAULT_SHAPE, "model.recurrent_bits": 2}, "2 sign planes of h (residual binarization)"
    ),
    "recurrent-norm": Variant(
        "bcrnn", {**DEFAULT_SHAPE, "model.recurrent_norm": True}, "batch normalization in the recurrence"
    ),
    "approx-sign": Variant(
        "bcrnn", {**DEFAULT_SHAPE, "model.sign_estimator": "approx"}, "ApproxSign gradient for activations"
    ),
    "real-weights": Variant(
        "bcrnn", {**DEFAULT_SHAPE, "model.binary_weights": False}, "stage 1: binary activations, real weights"
    ),
    "two-stage": Variant(
        "bcrnn",
        {
            **DEFAULT_SHAPE,
            "train.teacher": STAGE1_RUN,
            "train.distill_weight": 0.0,
            "train.learning_rate": 5e-4,
        },
        "stage 2: binary weights from the real-weights run of the same seed, lr 5e-4",
    ),
    "crnn": Variant("crnn"),
    "crnn-lstm256": Variant("crnn", {"model.lstm_units": 256}),
}
# A variant name ending in "+specaug" runs that variant with SpecAugment on (the default recipe
# until the "specaug" rows showed it costs the CRNN 20 points of dev UAR).
SUFFIXES: dict[str, Changes] = {"+specaug": {"train.spec_augment": True}}

# Variants whose options were removed (their ablation rows found no gain): name -> (the train flags
# they added, the last commit that can run them). Their recorded rows stay in the results.
RETIRED_VARIANTS: dict[str, tuple[str, str]] = {
    "thermometer": ("--input-levels 7", RETIRED_AFTER),
    "lstm-bn": ("--lstm-input-norm", RETIRED_AFTER),
    "binlr0.1": ("--binary-lr-scale 0.1", RETIRED_AFTER),
    "readout-bn": ("--readout-norm", RETIRED_AFTER),
    "lstm-levels3": ("--float-first-layer --lstm-input-levels 3", RETIRED_AFTER),
    "ls0.1": ("--float-first-layer --label-smoothing 0.1", RETIRED_AFTER),
    "cw0.5": ("--float-first-layer --class-weight-power 0.5", RETIRED_AFTER),
    "split-scales": ("--float-first-layer --lstm-scales split", RETIRED_AFTER),
}


def variant(name: str) -> Variant:
    """The registered variant `name` (with any `+specaug` suffix applied)."""
    for suffix, extra in SUFFIXES.items():
        if name.endswith(suffix):
            v = variant(name[: -len(suffix)])
            return Variant(v.model, {**v.changes, **extra}, v.doc)
    if name in RETIRED_VARIANTS:
        flags, commit = RETIRED_VARIANTS[name]
        raise ConfigError(f"variant {name!r} ({flags}) was retired; commit {commit} is the last that runs it")
    if name not in VARIANTS:
        raise ConfigError(f"unknown variant {name!r}: choose from {', '.join(VARIANTS)} (+specaug)")
    return VARIANTS[name]


def teacher_variant(name: str) -> str | None:
    """The variant whose run `name` starts from (`train.teacher` template), if any."""
    template = variant(name).changes.get("train.teacher")
    return template.rsplit("/", 1)[-1].split("-e{epochs}")[0] if template else None


def variant_changes(name: str) -> dict[str, Any]:
    """Everything variant `name` changes in the default preset: the ablation reference and
    protocol, then its own changes."""
    v = variant(name)
    return {**ABLATION_REFERENCE.changes_for(v.model), **ABLATION_PROTOCOL.changes, **v.changes}


def variant_config(name: str, labels: tuple[str, ...] = (), **fmt: Any) -> Config:
    """The validated `Config` variant `name` trains with (`fmt` fills the teacher run template)."""
    v = variant(name)
    changes = {k: val.format(**fmt) if isinstance(val, str) and fmt else val
               for k, val in variant_changes(name).items()}  # fmt: skip
    cfg = apply(preset("default", v.model), changes)
    if labels:
        cfg = cfg.replace(labels=tuple(labels), model=dataclasses.replace(cfg.model, n_classes=len(labels)))
    return cfg.validate()
