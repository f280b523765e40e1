"""`ser-bnn train`: train the BCRNN (or the float CRNN) with a speaker-independent split."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from ser_bnn.commands.common import add_data_arguments, corpus_options
from ser_bnn.errors import ConfigError

# flag -> (config section, field): every default comes from `ser_bnn.config` (the preset)
OVERRIDES = {
    "epochs": ("train", "epochs"),
    "batch_size": ("train", "batch_size"),
    "lr": ("train", "learning_rate"),
    "weight_decay": ("train", "weight_decay"),
    "patience": ("train", "patience"),
    "dev_speakers": ("train", "dev_speakers"),
    "train_hop": ("train", "train_segment_hop_frames"),
    "gain_db": ("train", "gain_db"),
    "teacher": ("train", "teacher"),
    "binary_lr_scale": ("train", "binary_lr_scale"),
    "distill_weight": ("train", "distill_weight"),
    "label_smoothing": ("train", "label_smoothing"),
    "class_weight_power": ("train", "class_weight_power"),
    "seed": ("train", "seed"),
    "norm": ("features", "norm"),
    "readout": ("model", "readout"),
    "dropout": ("model", "dropout"),
    "input_levels": ("model", "input_levels"),
    "lstm_input_levels": ("model", "lstm_input_levels"),
    "lstm_scales": ("model", "lstm_scales"),
    "lstm_units": ("model", "lstm_units"),
    "conv_filters": ("model", "conv_filters"),
    "pooling": ("model", "pooling"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ser_bnn.config import BCRNN_LSTM_UNITS, NORMS, PRESETS, READOUTS, Config
    from ser_bnn.corpora import CORPORA

    d = Config()
    t, m = d.train, d.model
    splits = "".join(f"{k.default_split} for {n}, " for n, k in CORPORA.items() if k.default_split != "loso")
    add_data_arguments(p)
    p.add_argument(
        "--model", choices=["bcrnn", "crnn"], default="bcrnn", help="binary BCRNN or float CRNN twin"
    )
    p.add_argument(
        "--split",
        default=None,
        help=f"fixed | loso | loso:K | manifest (default: {splits}loso otherwise)",
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="default",
        help="named setting to start from (default: default)",
    )
    p.add_argument(
        "--paper",
        action="store_true",
        help="same as --preset paper: per-segment norm, last-state read-out, lr 1e-5, batch 40, "
        "no augmentation",
    )
    p.add_argument("--config", default=None, help="JSON config file to start from instead of a preset")
    p.add_argument("--epochs", type=int, help=f"maximum epochs (default {t.epochs})")
    p.add_argument("--batch-size", type=int, help=f"default {t.batch_size}; the paper used 40")
    p.add_argument("--lr", type=float, help=f"peak Adam learning rate (default {t.learning_rate})")
    p.add_argument("--weight-decay", type=float, help=f"decay of float weights (default {t.weight_decay})")
    p.add_argument(
        "--label-smoothing",
        type=float,
        help=f"smoothing e of the one-hot targets, in [0, 1) (default {t.label_smoothing})",
    )
    p.add_argument(
        "--class-weight-power",
        type=float,
        help=f"class weights (n / (C * count)) ** P, in [0, 1]: 1 balanced, 0 none "
        f"(default {t.class_weight_power})",
    )
    p.add_argument("--patience", type=int, help=f"early stopping on smoothed dev UAR (default {t.patience})")
    p.add_argument(
        "--dev-speakers",
        type=int,
        help=f"training speakers held out for model selection (default {t.dev_speakers})",
    )
    p.add_argument(
        "--train-hop",
        type=int,
        help=f"hop between training segments in frames (default {t.train_segment_hop_frames}; 300 = paper)",
    )
    p.add_argument(
        "--norm",
        choices=NORMS,
        help=f"log-Mel standardization (default {d.features.norm}): each speaker's own statistics, fixed "
        "statistics of the training speakers, or each segment's own",
    )
    p.add_argument("--readout", choices=READOUTS, help=f"BiLSTM read-out (default {m.readout}; paper: last)")
    p.add_argument(
        "--dropout",
        type=float,
        help=f"dropout on the read-out (float FC only) and the FC (default {m.dropout})",
    )
    p.add_argument("--gain-db", type=float, help=f"random gain augmentation in +-dB (default {t.gain_db})")
    p.add_argument("--spec-augment", action="store_true", help="SpecAugment masks on training segments")
    p.add_argument("--no-spec-augment", action="store_true", help="no SpecAugment masks (default)")
    p.add_argument(
        "--no-speed-perturb", action="store_true", help=f"no speed perturbation (default {t.speed_perturb})"
    )
    p.add_argument(
        "--teacher", help="run directory of a trained CRNN: initialise the BCRNN from it and distill"
    )
    p.add_argument(
        "--distill-weight", type=float, help="weight of the distillation loss (default 0.5 with --teacher)"
    )
    p.add_argument(
        "--binary-lr-scale",
        type=float,
        help=f"step of the binary latent weights relative to the Adam step (default {t.binary_lr_scale})",
    )
    p.add_argument(
        "--no-teacher-init",
        action="store_true",
        help="with --teacher: distill only, do not start from the teacher's weights",
    )
    p.add_argument(
        "--float-first-layer", action="store_true", help="keep the first conv in float (BCRNN; the default)"
    )
    p.add_argument(
        "--binary-first-layer", action="store_true", help="binarize the first conv and its input (paper)"
    )
    p.add_argument(
        "--input-levels",
        type=int,
        help=f"thermometer levels of the binary conv input (default {m.input_levels}; 1 = sign(x), paper)",
    )
    p.add_argument(
        "--lstm-input-levels",
        type=int,
        help=f"thermometer levels of the binary LSTM input (default {m.lstm_input_levels}; 1: sign, paper)",
    )
    p.add_argument(
        "--lstm-input-norm",
        action="store_true",
        help="BatchNorm on the LSTM input projection (not the paper)",
    )
    p.add_argument(
        "--pooling",
        choices=("max", "mean-log"),
        help="utterance decision from its segments' posteriors: per-class max (paper) or their "
        "geometric mean (default preset); `ser-bnn evaluate --pooling` changes it after training",
    )
    p.add_argument(
        "--lstm-scales",
        choices=("shared", "split"),
        help=f"scales of the binary LSTM's input and recurrent products (default {m.lstm_scales}): "
        "shared alpha * beta (paper), or split: each normalized by its fan-in with learned gains",
    )
    p.add_argument(
        "--lstm-units",
        type=int,
        help=f"units per LSTM direction (default preset: {BCRNN_LSTM_UNITS} for the BCRNN, "
        f"{m.lstm_units} for the CRNN; paper: {m.lstm_units})",
    )
    p.add_argument("--conv-filters", type=int, help=f"conv feature maps (default {m.conv_filters}: paper)")
    p.add_argument(
        "--readout-norm", action="store_true", help="BatchNorm on the BiLSTM read-out (before the FC layer)"
    )
    p.add_argument("--float-lstm", action="store_true", help="keep the BiLSTM in float (BCRNN ablation)")
    p.add_argument("--float-fc", action="store_true", help="keep the FC layer in float (BCRNN ablation)")
    p.add_argument("--no-xnor-scale", action="store_true", help="disable the XNOR-Net input scale K")
    p.add_argument("--seed", type=int, help=f"random seed (default {t.seed})")
    p.add_argument(
        "--out", default=None, help="run directory (default runs/<dataset>-<model>-<split>-s<seed>)"
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")


def make_config(args: argparse.Namespace, labels: tuple[str, ...]):  # noqa: ANN201
    """The preset (or --config file), then every flag that was given; validated as a whole."""
    from ser_bnn.config import Config, preset

    name = "paper" if args.paper else args.preset
    base = Config.load(args.config) if args.config else preset(name, args.model)
    sections = {"features": {}, "model": {}, "train": {}}
    for flag, (section, field) in OVERRIDES.items():
        value = getattr(args, flag, None)
        if value is not None:
            sections[section][field] = value
    if args.teacher and args.distill_weight is None:
        sections["train"]["distill_weight"] = 0.5
    if args.spec_augment and args.no_spec_augment:
        raise ConfigError("--spec-augment and --no-spec-augment contradict each other")
    if args.spec_augment or args.no_spec_augment:
        sections["train"]["spec_augment"] = bool(args.spec_augment)
    if args.no_speed_perturb:
        sections["train"]["speed_perturb"] = (1.0,)
    if args.float_first_layer and args.binary_first_layer:
        raise ConfigError("--float-first-layer and --binary-first-layer contradict each other")
    if args.float_first_layer or args.binary_first_layer:
        sections["model"]["binary_first_layer"] = bool(args.binary_first_layer)
    if args.lstm_input_norm:
        sections["model"]["lstm_input_norm"] = True
    if args.no_teacher_init:
        if not args.teacher:
            raise ConfigError("--no-teacher-init needs --teacher RUN_DIR")
        sections["train"]["teacher_init"] = False
    if args.readout_norm:
        sections["model"]["readout_norm"] = True
    if args.float_lstm:
        sections["model"]["binary_lstm"] = False
    if args.float_fc:
        sections["model"]["binary_fc"] = False
    if args.no_xnor_scale:
        sections["model"]["xnor_input_scale"] = False
    sections["model"].update(name=args.model, n_classes=len(labels))
    if "norm" in sections["features"]:
        sections["features"].update(norm_mean=(), norm_std=())
    cfg = Config(
        features=dataclasses.replace(base.features, **sections["features"]),
        model=dataclasses.replace(base.model, **sections["model"]),
        train=dataclasses.replace(base.train, **sections["train"]),
        labels=tuple(labels),
        dataset=args.dataset,
        corpus_options=corpus_options(args),
    )
    try:
        return cfg.validate()
    except ConfigError as e:  # name the flag the user typed, not the config field
        msg = str(e)
        for flag, (section, field) in OVERRIDES.items():
            if getattr(args, flag, None) is not None:
                msg = msg.replace(f"{section}.{field} ", f"--{flag.replace('_', '-')} ")
        raise ConfigError(msg) from None


def run(args: argparse.Namespace) -> int:
    from ser_bnn.baseline import floor_for_fold
    from ser_bnn.corpora import corpus_kind, load_corpus
    from ser_bnn.experiment import finish_summary, train_split
    from ser_bnn.splits import make_folds

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
