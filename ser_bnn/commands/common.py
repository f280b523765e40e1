"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse


def add_data_arguments(p: argparse.ArgumentParser, dataset_required: bool = False) -> None:
    p.add_argument(
        "--dataset",
        choices=["emodb", "iemocap", "csv"],
        default=None if dataset_required else "emodb",
        required=dataset_required,
        help="corpus type (default: emodb)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="corpus directory (Emo-DB: folder holding wav/; IEMOCAP: IEMOCAP_full_release; csv: the "
        "manifest file). Default: $SER_BNN_DATA, else ../shared/data/emodb for Emo-DB",
    )
    p.add_argument(
        "--iemocap-classes", type=int, choices=[4, 5], default=5, help="IEMOCAP label set (default 5)"
    )
    p.add_argument(
        "--cache-dir", default=None, help="feature cache (default $SER_BNN_CACHE or ~/.cache/ser-bnn)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def corpus_options(args: argparse.Namespace) -> dict:
    return {"classes": args.iemocap_classes} if args.dataset == "iemocap" else {}
