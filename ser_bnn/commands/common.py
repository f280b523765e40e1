"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse

from ser_bnn.data.corpora.registry import CORPORA, DATA_ENV, DEFAULT_DATASET, corpus_kind


def add_data_arguments(p: argparse.ArgumentParser, dataset_required: bool = False) -> None:
    """`--dataset` (the registered corpora), `--data-dir`, every registered reader option, the cache."""
    p.add_argument(
        "--dataset",
        choices=list(CORPORA),
        default=None if dataset_required else DEFAULT_DATASET,
        required=dataset_required,
        help=f"corpus type (default: {DEFAULT_DATASET})",
    )
    kinds = CORPORA.values()
    where = "; ".join(f"{k.title}: {k.data_dir}" for k in kinds)
    defaults = ", ".join(
        f"../shared/data/{k.default_data_dir} for {k.title}" for k in kinds if k.default_data_dir
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help=f"corpus directory ({where}). Default: ${DATA_ENV}, else {defaults}",
    )
    for kind in kinds:
        for o in kind.options:
            p.add_argument(
                o.flag, type=o.type, choices=list(o.choices) or None, default=o.default, help=o.help
            )
    p.add_argument(
        "--cache-dir", default=None, help="feature cache (default $SER_BNN_CACHE or ~/.cache/ser-bnn)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def corpus_options(args: argparse.Namespace) -> dict:
    """The reader options of `args.dataset`, from its flags (saved in `Config.corpus_options`)."""
    return {o.key: getattr(args, o.dest) for o in corpus_kind(args.dataset).options}
