"""Utterance-level decisions and the paper's metrics (UAR, WA, per-class recall, confusion)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ser_bnn.atomic import atomic_write
from ser_bnn.dsp.segments import LOG_FLOOR, POOLINGS


def pool_utterances(posteriors: np.ndarray, utt: np.ndarray, n_utts: int, pooling: str = "max") -> np.ndarray:
    """Pool segment posteriors [N, C] into utterance scores [n_utts, C]: `segments.pool_posteriors`
    ("max": paper section 4.2; "mean-log": geometric mean) for every utterance at once."""
    counts = np.bincount(utt, minlength=n_utts)
    if (counts[:n_utts] == 0).any():
        raise ValueError("an utterance has no segment")
    if pooling == "max":
        out = np.full((n_utts, posteriors.shape[1]), -np.inf)
        np.maximum.at(out, utt, posteriors)
        return out
    if pooling == "mean-log":
        logs = np.zeros((n_utts, posteriors.shape[1]))
        np.add.at(logs, utt, np.log(np.maximum(np.asarray(posteriors, np.float64), LOG_FLOOR)))
        return np.exp(logs / counts[:n_utts, None])
    raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def scores(cm: np.ndarray, labels: Sequence[str]) -> dict:
    """UAR (mean per-class recall over classes present), WA (accuracy), per-class recall."""
    support = cm.sum(axis=1)
    recall = np.divide(np.diag(cm), support, out=np.zeros(len(cm)), where=support > 0)
    present = support > 0
    return {
        "uar": float(recall[present].mean()) if present.any() else 0.0,
        "wa": float(np.trace(cm) / max(cm.sum(), 1)),
        "per_class_recall": {lab: float(r) for lab, r, s in zip(labels, recall, present, strict=True) if s},
        "confusion": cm.tolist(),
        "labels": list(labels),
    }


def plot_confusion(cm: np.ndarray, labels: Sequence[str], path: Path, title: str = "") -> None:
    """Row-normalised confusion matrix with counts, as PNG (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.75 * len(labels)))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j, i, f"{cm[i, j]}", ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black"
            )
    fig.colorbar(im, ax=ax, fraction=0.046, label="recall")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    atomic_write(Path(path), lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
