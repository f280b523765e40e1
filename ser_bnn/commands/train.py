"""`ser-bnn train`: train the BCRNN (or the float CRNN) with a speaker-independent split."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from ser_bnn.commands.common import add_data_arguments, corpus_options
from ser_bnn.errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ser_bnn.config import TrainConfig

    d = TrainConfig()
    add_data_arguments(p)
    p.add_argument(
        "--model", choices=["bcrnn", "crnn"], default="bcrnn", help="binary BCRNN or float CRNN twin"
    )
    p.add_argument(
        "--split",
        default=None,
        help="fixed | loso | loso:K | manifest (default: fixed for emodb, loso otherwise)",
    )
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"maximum epochs (default {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size} (paper)")
    p.add_argument(
        "--lr", type=float, default=d.learning_rate, help=f"Adam learning rate (default {d.learning_rate})"
    )
    p.add_argument("--patience", type=int, default=d.patience, help="early stopping on dev UAR (epochs)")
    p.add_argument(
        "--dev-speakers", type=int, default=d.dev_speakers, help="training speakers held out as dev"
    )
    p.add_argument(
        "--train-hop",
        type=int,
        default=d.train_segment_hop_frames,
        help="hop between training segments in frames (300 = paper, no overlap)",
    )
    p.add_argument(
        "--norm",
        choices=["segment", "global"],
        default="global",
        help="log-Mel standardization: fixed statistics of the training speakers (default; baked into the "
        "exported model) or each segment's own statistics",
    )
    p.add_argument("--no-spec-augment", action="store_true", help="no SpecAugment masks on training segments")
    p.add_argument("--dropout", type=float, default=None, help="dropout before the classifier (default 0)")
    p.add_argument(
        "--paper",
        action="store_true",
        help="paper setting: lr 1e-5, batch 40, no overlap, no SpecAugment, per-segment norm",
    )
    p.add_argument("--float-first-layer", action="store_true", help="keep the conv input in float (BCRNN)")
    p.add_argument("--no-xnor-scale", action="store_true", help="disable the XNOR-Net input scale K")
    p.add_argument("--config", default=None, help="JSON file with model/features overrides")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--out", default=None, help="run directory (default runs/<dataset>-<model>-<split>-s<seed>)"
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")


def make_config(args: argparse.Namespace, labels: tuple[str, ...]):  # noqa: ANN201
    from ser_bnn.config import Config, ModelConfig, TrainConfig

    base = Config.load(args.config) if args.config else Config()
    for name, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("patience", args.patience)):
        if v <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {v}")
    if args.lr <= 0 or args.train_hop <= 0 or args.dev_speakers < 0:
        raise ConfigError("--lr and --train-hop must be positive and --dev-speakers >= 0")
    lr, hop, augment = args.lr, args.train_hop, not args.no_spec_augment
    if args.paper:
        lr, hop, augment = 1e-5, base.features.segment_hop_frames, False
        args.batch_size = 40
    if args.dropout is not None and not 0.0 <= args.dropout < 1.0:
        raise ConfigError(f"--dropout must be in [0, 1), got {args.dropout}")
    model = dataclasses.replace(
        base.model if args.config else ModelConfig(),
        name=args.model,
        binary=args.model == "bcrnn",
        n_classes=len(labels),
        binary_first_layer=not args.float_first_layer
        and (base.model.binary_first_layer if args.config else True),
        xnor_input_scale=not args.no_xnor_scale,
    )
    if args.dropout is not None:
        model = dataclasses.replace(model, dropout=args.dropout)
    train = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=lr,
        seed=args.seed,
        patience=args.patience,
        train_segment_hop_frames=hop,
        dev_speakers=args.dev_speakers,
        spec_augment=augment,
    )
    features = base.features
    norm = "segment" if args.paper else args.norm
    if norm is not None:
        features = dataclasses.replace(features, norm=norm, norm_mean=(), norm_std=())
    cfg = Config(features=features, model=model, train=train, labels=tuple(labels), dataset=args.dataset)
    cfg.features.validate()
    cfg.model.validate()
    return cfg


def run(args: argparse.Namespace) -> int:
    from ser_bnn.corpora import load_corpus
    from ser_bnn.splits import make_folds
    from ser_bnn.train import aggregate_folds, check_run_dir, finish_summary, train_fold

    corpus = load_corpus(args.dataset, args.data_dir, **corpus_options(args))
    if args.split is None:
        args.split = "fixed" if args.dataset == "emodb" else "loso"
    cfg = make_config(args, corpus.labels)
    folds = make_folds(corpus, args.split, dev_speakers=args.dev_speakers, seed=args.seed)
    out = Path(args.out or f"runs/{args.dataset}-{args.model}-{args.split.replace(':', '')}-s{args.seed}")
    cache = Path(args.cache_dir) if args.cache_dir else None
    progress = not args.no_progress
    t0 = time.perf_counter()
    if len(folds) == 1:
        metrics = train_fold(
            cfg, folds[0], out, resume=args.resume, cache_dir=cache, progress=progress, split_name=args.split
        )
    else:
        from ser_bnn.train import read_state, write_state

        state = check_run_dir(out, args.resume) if not args.resume else read_state(out)
        if state is not None and state.get("status") == "complete":
            metrics = json.loads((out / "metrics.json").read_text())
        else:
            out.mkdir(parents=True, exist_ok=True)
            cfg.save(out / "config.json")
            write_state(out, status="training", folds=[f.name for f in folds])
            per_fold = []
            for i, fold in enumerate(folds):
                print(f"fold {i + 1}/{len(folds)}: test speakers {', '.join(fold.test_speakers)}")
                fold_dir = out / fold.name
                per_fold.append(
                    train_fold(
                        cfg,
                        fold,
                        fold_dir,
                        resume=args.resume or fold_dir.exists(),
                        cache_dir=cache,
                        progress=progress,
                        split_name=args.split,
                    )
                )
            metrics = aggregate_folds(out, per_fold, args.split, cfg.model.name)
            write_state(out, status="complete", folds=[f.name for f in folds])
    print(finish_summary(out, metrics, time.perf_counter() - t0))
    return 0
