"""What a finished experiment reports: the LOSO aggregate over folds and the one-screen summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ser_bnn.training.metrics import plot_confusion, scores
from ser_bnn.training.rundir import METRICS, write_json


def aggregate_folds(run_dir: Path, fold_metrics: list[dict], split: str, model: str) -> dict:
    """LOSO summary: mean and std of UAR over folds and the pooled confusion matrix."""
    labels = fold_metrics[0]["labels"]
    cm = np.sum([np.array(m["confusion"]) for m in fold_metrics], axis=0)
    pooled = scores(cm, labels)
    uars = np.array([m["uar"] for m in fold_metrics])
    was = np.array([m["wa"] for m in fold_metrics])
    out = {
        **pooled,
        "uar": float(uars.mean()),
        "uar_std": float(uars.std()),
        "wa": float(was.mean()),
        "wa_std": float(was.std()),
        "pooled_uar": pooled["uar"],
        "pooled_wa": pooled["wa"],
        "split": split,
        "model": model,
        "folds": {
            m["fold"]: {"uar": m["uar"], "wa": m["wa"], "test_speakers": m["test_speakers"]}
            for m in fold_metrics
        },
        "test_speakers": sorted({s for m in fold_metrics for s in m["test_speakers"]}),
        "n_test_utterances": int(sum(m["n_test_utterances"] for m in fold_metrics)),
        "train_seconds": round(float(sum(m.get("train_seconds", 0.0) for m in fold_metrics)), 1),
    }
    write_json(Path(run_dir) / METRICS, out)
    plot_confusion(
        cm,
        labels,
        Path(run_dir) / "confusion.png",
        title=f"{model} {split}: UAR {100 * out['uar']:.1f} +- {100 * out['uar_std']:.1f}%",
    )
    return out


def finish_summary(run_dir: Path, metrics: dict, seconds: float, floor: dict | None = None) -> str:
    """The one-screen summary printed at the end of `train` and by `evaluate`."""
    lines = [
        f"run: {run_dir}",
        f"model: {metrics.get('model', '?')}   split: {metrics.get('split', '?')}   "
        f"test speakers: {' '.join(metrics.get('test_speakers', []))}   "
        f"utterances: {metrics.get('n_test_utterances', '?')}",
    ]
    if "uar_std" in metrics:
        lines.append(
            f"UAR {100 * metrics['uar']:.1f} +- {100 * metrics['uar_std']:.1f} %  (mean over folds; "
            f"pooled {100 * metrics['pooled_uar']:.1f} %)   WA {100 * metrics['wa']:.1f} %"
        )
    else:
        lines.append(f"UAR {100 * metrics['uar']:.1f} %   WA {100 * metrics['wa']:.1f} %")
    if floor is not None:
        lines.append(
            f"linear floor (logistic regression on utterance statistics, same split and norm): "
            f"UAR {100 * floor['uar']:.1f} %"
        )
    width = max(len(k) for k in metrics["per_class_recall"]) if metrics.get("per_class_recall") else 8
    for lab, r in metrics.get("per_class_recall", {}).items():
        lines.append(f"  {lab:<{width}}  recall {100 * r:5.1f} %  " + "#" * int(round(20 * r)))
    lines.append(f"time: {seconds:.0f} s   files: metrics.json, confusion.png, history.csv, model/")
    return "\n".join(lines)
