"""`ser-bnn evaluate RUN_DIR`: utterance-level UAR/WA of a finished run on its test speakers."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ser_bnn.errors import SerBnnError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run directory written by `ser-bnn train`")
    p.add_argument("--data-dir", default=None, help="corpus location if it moved since training")
    p.add_argument("--cache-dir", default=None, help="feature cache directory")
    p.add_argument(
        "--pooling",
        choices=("max", "mean-log"),
        help="set the run's utterance decision rule first (written to its config.json; export uses it)",
    )
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from ser_bnn.training.evaluate import evaluate_run
    from ser_bnn.training.report import finish_summary

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise SerBnnError(f"run directory not found: {run_dir}")
    t0 = time.perf_counter()
    metrics = evaluate_run(
        run_dir,
        data_dir=args.data_dir,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        progress=not args.no_progress,
        pooling=args.pooling,
    )
    print(finish_summary(run_dir, metrics, time.perf_counter() - t0))
    print(json.dumps({k: metrics[k] for k in ("uar", "wa")}))
    return 0
