"""`ser-bnn train`: train the BCRNN (or the float CRNN) with a speaker-independent split."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, NamedTuple

from ser_bnn.commands.common import add_data_arguments, corpus_options
from ser_bnn.config import ESTIMATORS, NORMS, READOUTS
from ser_bnn.errors import ConfigError


class Value(NamedTuple):
    """A flag that sets one config field ("section.field") to its argument."""

    key: str
    type: type
    help: str
    choices: tuple[str, ...] | None = None
    show_default: bool = True


# flag dest -> the field it sets; every default comes from the preset (`ser_bnn.recipes`)
VALUES: dict[str, Value] = {
    "epochs": Value("train.epochs", int, "maximum epochs"),
    "batch_size": Value("train.batch_size", int, "batch size; the paper used 40"),
    "lr": Value("train.learning_rate", float, "peak Adam learning rate"),
    "weight_decay": Value("train.weight_decay", float, "decay of float weights"),
    "patience": Value("train.patience", int, "early stopping on smoothed dev UAR"),
    "dev_speakers": Value("train.dev_speakers", int, "training speakers held out for model selection"),
    "train_hop": Value("train.train_segment_hop_frames", int, "hop between training segments in frames; 300 = paper"),  # noqa: E501
    "gain_db": Value("train.gain_db", float, "random gain augmentation in +-dB"),
    "teacher": Value(
        "train.teacher", str,
        "run directory of a trained CRNN (or --real-weights BCRNN): initialise the BCRNN from it and distill",
        show_default=False,
    ),
    "distill_weight": Value(
        "train.distill_weight", float, "weight of the distillation loss (default 0.5 with --teacher)",
        show_default=False,
    ),
    "seed": Value("train.seed", int, "random seed"),
    "norm": Value(
        "features.norm", str, "log-Mel standardization: each speaker's own statistics, fixed statistics "
        "of the training speakers, or each segment's own", NORMS,
    ),
    "readout": Value("model.readout", str, "BiLSTM read-out (paper: last)", READOUTS),
    "dropout": Value("model.dropout", float, "dropout on the read-out (float FC only) and the FC"),
    "lstm_units": Value(
        "model.lstm_units", int, "units per LSTM direction; 128 in the paper and the CRNN's default preset"
    ),
    "conv_filters": Value("model.conv_filters", int, "conv feature maps (paper: 128)"),
    "sign_estimator": Value(
        "model.sign_estimator", str, "gradient of the activation sign (paper: ste)", ESTIMATORS
    ),
    "recurrent_bits": Value("model.recurrent_bits", int, "sign planes of the recurrent input h (paper: 1)"),
    "pooling": Value(
        "model.pooling", str, "utterance decision from its segments' posteriors: per-class max (paper) "
        "or their geometric mean; `ser-bnn evaluate --pooling` changes it after training",
        ("max", "mean-log"),
    ),
}  # fmt: skip

# flag dest -> (the field it sets, the value, help); two switches of one field contradict each other
SWITCHES: dict[str, tuple[str, Any, str]] = {
    "float_first_layer": ("model.binary_first_layer", False, "keep the first conv in float (the default)"),
    "binary_first_layer": ("model.binary_first_layer", True, "binarize the first conv and its input (paper)"),
    "float_lstm": ("model.binary_lstm", False, "keep the BiLSTM in float (BCRNN ablation)"),
    "float_fc": ("model.binary_fc", False, "keep the FC layer in float (BCRNN ablation)"),
    "sign_threshold": (
        "model.sign_threshold", True, "learned per-channel thresholds before each activation sign (x - b)"
    ),
    "recurrent_norm": (
        "model.recurrent_norm", True, "batch normalization inside the recurrence (products and c)"
    ),
    "real_weights": (
        "model.binary_weights", False, "binary activations, real weights: stage 1 of two-stage training"
    ),
    "spec_augment": ("train.spec_augment", True, "SpecAugment masks on training segments"),
    "no_spec_augment": ("train.spec_augment", False, "no SpecAugment masks (default)"),
    "no_speed_perturb": ("train.speed_perturb", (1.0,), "no speed perturbation"),
    "no_teacher_init": (
        "train.teacher_init", False, "with --teacher: distill only, do not start from the teacher's weights"
    ),
}  # fmt: skip

DISTILL_WEIGHT = 0.5  # with --teacher and no --distill-weight


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ser_bnn.data.corpora import CORPORA
    from ser_bnn.recipes import PRESETS, preset

    defaults = preset("default")
    splits = "".join(f"{k.default_split} for {n}, " for n, k in CORPORA.items() if k.default_split != "loso")
    add_data_arguments(p)
    p.add_argument(
        "--model", choices=["bcrnn", "crnn"], default="bcrnn", help="binary BCRNN or float CRNN twin"
    )
    p.add_argument(
        "--split", default=None, help=f"fixed | loso | loso:K | manifest (default: {splits}loso otherwise)"
    )
    p.add_argument(
        "--preset", choices=sorted(PRESETS), default="default", help="named setting to start from (default: "
        "default; paper: per-segment norm, last-state read-out, lr 1e-5, batch 40, no augmentation)",
    )  # fmt: skip
    p.add_argument("--config", default=None, help="JSON config file to start from instead of a preset")
    for dest, v in VALUES.items():
        section, _, name = v.key.partition(".")
        default = f" (default {getattr(getattr(defaults, section), name)})" if v.show_default else ""
        p.add_argument(_flag(dest), type=v.type, choices=v.choices, help=v.help + default)
    for dest, (_, _, help_text) in SWITCHES.items():
        p.add_argument(_flag(dest), action="store_true", help=help_text)
    p.add_argument(
        "--out", default=None, help="run directory (default runs/<dataset>-<model>-<split>-s<seed>)"
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")


def flag_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The config changes ("section.field" -> value) of the flags that were given."""
    changes: dict[str, Any] = {}
    given: dict[str, str] = {}
    for dest, (key, value, _) in SWITCHES.items():
        if getattr(args, dest, False):
            if key in given:
                raise ConfigError(f"{_flag(given[key])} and {_flag(dest)} contradict each other")
            changes[key], given[key] = value, dest
    for dest, v in VALUES.items():
        if getattr(args, dest, None) is not None:
            changes[v.key] = getattr(args, dest)
    if args.teacher and args.distill_weight is None:
        changes["train.distill_weight"] = DISTILL_WEIGHT
    if args.no_teacher_init and not args.teacher:
        raise ConfigError("--no-teacher-init needs --teacher RUN_DIR")
    if "features.norm" in changes:  # statistics of another norm do not carry over
        changes.update({"features.norm_mean": (), "features.norm_std": ()})
    return changes


def to_flags(changes: dict[str, Any]) -> list[str]:
    """The train flags that make `changes` (the inverse of `flag_changes`, e.g. for the ablation)."""
    flags: list[str] = []
    for key, value in changes.items():
        if key == "train.distill_weight" and value == DISTILL_WEIGHT and "train.teacher" in changes:
            continue  # implied by --teacher
        switch = [d for d, (k, v, _) in SWITCHES.items() if k == key and v == value]
        values = [d for d, v in VALUES.items() if v.key == key]
        if switch:
            flags.append(_flag(switch[0]))
        elif values:
            flags += [_flag(values[0]), f"{value:g}" if isinstance(value, float) else str(value)]
        else:
            raise ConfigError(f"no train flag sets {key}={value!r}")
    return flags


def make_config(args: argparse.Namespace, labels: tuple[str, ...]):  # noqa: ANN201
    """The preset (or --config file), then every flag that was given; validated as a whole."""
    from ser_bnn.config import Config
    from ser_bnn.recipes import apply, preset

    base = Config.load(args.config) if args.config else preset(args.preset, args.model)
    changes = {**flag_changes(args), "model.name": args.model, "model.n_classes": len(labels)}
    cfg = apply(base, changes).replace(
        labels=tuple(labels), dataset=args.dataset, corpus_options=corpus_options(args)
    )
    try:
        return cfg.validate()
    except ConfigError as e:  # name the flag the user typed, not the config field
        msg = str(e)
        for dest, v in VALUES.items():
            if getattr(args, dest, None) is not None:
                msg = msg.replace(f"{v.key} ", f"{_flag(dest)} ")
        raise ConfigError(msg) from None


def run(args: argparse.Namespace) -> int:
    from ser_bnn.data.corpora import corpus_kind, load_corpus
    from ser_bnn.data.splits import make_folds
    from ser_bnn.training.baseline import floor_for_fold
    from ser_bnn.training.experiment import train_split
    from ser_bnn.training.report import finish_summary

    corpus = load_corpus(args.dataset, args.data_dir, **corpus_options(args))
    if args.split is None:
        args.split = corpus_kind(args.dataset).default_split
    cfg = make_config(args, corpus.labels)
    folds = make_folds(corpus, args.split, dev_speakers=cfg.train.dev_speakers, seed=cfg.train.seed)
    name = f"runs/{args.dataset}-{args.model}-{args.split.replace(':', '')}-s{cfg.train.seed}"
    out = Path(args.out or name)
    cache = Path(args.cache_dir) if args.cache_dir else None
    progress = not args.no_progress
    t0 = time.perf_counter()
    metrics = train_split(
        cfg, folds, out, split_name=args.split, resume=args.resume, cache_dir=cache, progress=progress
    )
    floor = floor_for_fold(cfg, folds[0], cache) if len(folds) == 1 else None
    print(finish_summary(out, metrics, time.perf_counter() - t0, floor))
    return 0
