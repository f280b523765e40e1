"""A whole speaker-independent experiment: every fold of a split, then their aggregate.

`train_split` is what `ser-bnn train` runs: one fold (fixed split, `loso:K`, manifest) writes its
run directory directly; several folds (LOSO) write one sub-directory per fold plus the mean and
standard deviation of UAR over folds and the pooled confusion matrix (`ser_bnn.training.report`).
Finished folds are kept, unfinished ones resumed, so a long LOSO can be completed across sessions.
"""

from __future__ import annotations

import json
from pathlib import Path

from ser_bnn.config import Config
from ser_bnn.training.report import aggregate_folds
from ser_bnn.training.rundir import METRICS, check_run_dir, read_state, write_state
from ser_bnn.training.train import train_fold


def train_split(
    cfg: Config,
    folds: list,  # list[ser_bnn.data.splits.Fold]
    out: Path,
    *,
    split_name: str,
    resume: bool = False,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> dict:
    """Train and evaluate every fold; returns the run's (or the aggregate's) metrics."""
    out = Path(out)
    if len(folds) == 1:
        return train_fold(
            cfg, folds[0], out, resume=resume, cache_dir=cache_dir, progress=progress, split_name=split_name
        )
    state = read_state(out) if resume else check_run_dir(out, resume)
    if state is not None and state.get("status") == "complete":
        return json.loads((out / METRICS).read_text())
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.json")
    write_state(out, status="training", folds=[f.name for f in folds])
    per_fold = []
    for i, fold in enumerate(folds):
        if progress:
            print(f"fold {i + 1}/{len(folds)}: test speakers {', '.join(fold.test_speakers)}", flush=True)
        fold_dir = out / fold.name
        per_fold.append(
            train_fold(
                cfg,
                fold,
                fold_dir,
                resume=resume or fold_dir.exists(),
                cache_dir=cache_dir,
                progress=progress,
                split_name=split_name,
            )
        )
    metrics = aggregate_folds(out, per_fold, split_name, cfg.model.name)
    write_state(out, status="complete", folds=[f.name for f in folds])
    return metrics
