"""`ser-bnn prepare`: validate a corpus, print its summary table and build the feature cache."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ser_bnn.commands.common import add_data_arguments, corpus_options
from ser_bnn.errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p)
    p.add_argument("--verify-checksums", action="store_true", help="check Emo-DB files against SHA256SUMS")
    p.add_argument("--no-cache", action="store_true", help="validate and summarise only")
    p.add_argument(
        "--download",
        action="store_true",
        help="Emo-DB: fetch the authors' official zip into --data-dir first (checksums verified)",
    )


def run(args: argparse.Namespace) -> int:
    from ser_bnn.config import Config, TrainConfig
    from ser_bnn.data.corpora import corpus_kind, load_corpus, summary_table
    from ser_bnn.data.corpora.registry import names_with

    t0 = time.perf_counter()
    kind = corpus_kind(args.dataset)
    opts = corpus_options(args)
    if args.verify_checksums:
        if not kind.checksums:
            raise ConfigError(
                f"--verify-checksums applies to --dataset {names_with(lambda k: k.checksums)} only"
            )
        opts["verify_checksums"] = True
    if args.download:
        if kind.download is None or not args.data_dir:
            raise ConfigError(
                f"--download needs --dataset {names_with(lambda k: k.download)} and --data-dir DEST"
            )
        kind.download(args.data_dir, not args.no_progress)
    corpus = load_corpus(args.dataset, args.data_dir, **opts)
    print(summary_table(corpus))
    if not args.no_cache:
        from ser_bnn.data.features import corpus_segments, default_cache_dir
        from ser_bnn.dsp.stats import raw_config

        cfg = Config().features  # what training computes: raw log-Mel unless the norm is per segment
        cfg = cfg if cfg.norm == "segment" else raw_config(cfg)
        cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
        for hop in sorted({cfg.segment_hop_frames, TrainConfig().train_segment_hop_frames}):
            seg = corpus_segments(
                corpus.utterances, cfg, hop_frames=hop, cache_dir=cache, progress=not args.no_progress
            )
            print(
                f"features: {len(seg.x)} segments of {cfg.segment_frames} frames"
                f" (hop {hop} frames) cached in {cache}"
            )
    print(f"prepare took {time.perf_counter() - t0:.1f} s")
    return 0
