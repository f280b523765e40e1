"""The run directory: what `train` writes, `evaluate` and `export` read, and how it is written.

A run directory holds `config.json`, `labels.txt`, `split.json`, `state.json`, `checkpoints/`
(last epoch: weights, optimizer, counters), `best_weights.h5` (selected on the development
speakers), `history.csv`, `tb/` (TensorBoard), and when finished `model/` (SavedModel),
`metrics.json` and `confusion.png`. A LOSO run directory holds `config.json`, `state.json`,
one such directory per fold and the aggregate `metrics.json` / `confusion.png`.
`state.json` says `training` until everything is written, then `complete`; every file is
written atomically, so a killed run is either resumable with `--resume` or complete.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np

from ser_bnn.atomic import atomic_write_text
from ser_bnn.config import Config
from ser_bnn.errors import SerBnnError
from ser_bnn.training.metrics import plot_confusion

CONFIG = "config.json"
STATE = "state.json"
METRICS = "metrics.json"
HISTORY = "history.csv"
BEST_WEIGHTS = "best_weights.h5"
WEIGHT_FILES = (BEST_WEIGHTS, "best.weights.h5")  # the second: runs from before the rename
HISTORY_FIELDS = ["epoch", "loss", "accuracy", "dev_uar", "dev_uar_smoothed", "dev_wa", "lr", "seconds"]


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(Path(path), json.dumps(data, indent=2) + "\n")


def read_state(run_dir: Path) -> dict | None:
    p = Path(run_dir) / STATE
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        raise SerBnnError(f"{p} is unreadable; remove the run directory or use another --out") from None


def write_state(run_dir: Path, **state: object) -> None:
    write_json(Path(run_dir) / STATE, state)


def is_complete(run_dir: Path) -> bool:
    state = read_state(run_dir)
    return state is not None and state.get("status") == "complete"


def write_run_files(cfg: Config, fold, run_dir: Path, split_name: str) -> dict:  # noqa: ANN001
    """config.json, labels.txt and split.json (the fold's speakers and utterances); returns the split."""
    cfg.save(run_dir / "config.json")
    atomic_write_text(run_dir / "labels.txt", "\n".join(cfg.labels) + "\n")
    split_info = {
        "split": split_name or fold.name,
        "fold": fold.name,
        "test_speakers": list(fold.test_speakers),
        "dev_speakers": sorted({u.speaker for u in fold.dev}),
        "train_speakers": sorted({u.speaker for u in fold.train}),
        "train": [u.id for u in fold.train],
        "dev": [u.id for u in fold.dev],
        "test": [u.id for u in fold.test],
    }
    atomic_write_text(run_dir / "split.json", json.dumps(split_info, indent=1) + "\n")
    return split_info


def check_run_dir(run_dir: Path, resume: bool) -> dict | None:
    """Refuse to overwrite a finished or foreign run; return the saved state when resuming."""
    run_dir = Path(run_dir)
    state = read_state(run_dir)
    if resume:
        if state is None:
            if run_dir.exists() and any(run_dir.iterdir()):
                raise SerBnnError(f"{run_dir} holds no resumable run (no state.json)")
            return None
        return state
    if state is not None:
        raise SerBnnError(
            f"{run_dir} already holds a {state.get('status', 'unknown')} run; use --resume or another --out"
        )
    if run_dir.exists() and any(run_dir.iterdir()):
        raise SerBnnError(f"{run_dir} exists and is not empty; choose another --out")
    return None


def read_history(run_dir: Path, upto_epoch: int) -> list[dict]:
    path = Path(run_dir) / HISTORY
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if int(r["epoch"]) <= upto_epoch]


def write_history(run_dir: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(Path(run_dir) / HISTORY, buf.getvalue())


def save_savedmodel(model, target: Path) -> None:  # noqa: ANN001
    """Write a SavedModel into a temporary sibling and rename it into place."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # tf_keras warns twice that an uncompiled model has no metrics
    try:
        model.save(str(tmp), save_format="tf", include_optimizer=False)
    finally:
        logger.setLevel(level)
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def trained_weights(run_dir: Path) -> Path | None:
    """The run's trained weights (`best_weights.h5`, or the older name `best.weights.h5`), if any."""
    return next((run_dir / w for w in WEIGHT_FILES if (run_dir / w).is_file()), None)


def load_weights(model, weights: Path) -> None:  # noqa: ANN001
    """model.load_weights with a one-line error."""
    try:
        model.load_weights(str(weights))
    except (ValueError, OSError) as e:
        raise SerBnnError(f"cannot load {weights}: {str(e).splitlines()[0] if str(e) else e}") from None


def load_trained(run_dir: Path, batch_size: int | None = None):  # noqa: ANN201 - (model, cfg)
    """Rebuild the model from `config.json` and load its trained weights."""
    from ser_bnn.nn.models import build_model

    run_dir = Path(run_dir)
    cfg = Config.load(run_dir / CONFIG)
    weights = trained_weights(run_dir)
    if weights is None:
        raise SerBnnError(f"{run_dir} has no {BEST_WEIGHTS} (training never finished an epoch)")
    model = build_model(cfg, batch_size=batch_size)
    load_weights(model, weights)
    return model, cfg


def finish_run(run_dir: Path, metrics: dict) -> None:
    """Write metrics and the confusion plot, then mark the run complete (in that order)."""
    write_json(Path(run_dir) / METRICS, metrics)
    plot_confusion(
        np.array(metrics["confusion"]),
        metrics["labels"],
        Path(run_dir) / "confusion.png",
        title=f"{metrics.get('model', '')} {metrics.get('fold', '')}: UAR {100 * metrics['uar']:.1f}%",
    )
    write_state(
        run_dir,
        status="complete",
        epoch=metrics.get("epochs_trained", 0),
        train_seconds=metrics.get("train_seconds", 0.0),
    )
