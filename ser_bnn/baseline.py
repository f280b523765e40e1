"""The linear floor: logistic regression on utterance statistics of the project's own front end.

For every utterance, over the frames that hold signal of the network's own input (the same
front end and the same standardization as the model): per Mel band the mean, standard
deviation, 10th and 90th percentile and the standard deviation of frame-to-frame differences,
plus the log duration (5 * n_mels + 1 numbers). Features are z-scored on the training side,
and a class-balanced multinomial logistic regression (C = 0.1, fixed: nothing is tuned) is fit
on the fold's training and development speakers and scored on its test speakers (UAR).
A network that does not beat this has not learnt more than utterance-level spectral statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ser_bnn.config import Config
from ser_bnn.metrics import confusion_matrix, scores

C = 0.1


def utterance_statistics(seg, n_utts: int) -> np.ndarray:  # noqa: ANN001 - SegmentSet
    """[n_utts, 5 * n_mels + 1] statistics of the signal frames of each utterance's segments."""
    feats = []
    for i in range(n_utts):
        x = seg.x[seg.utt == i].reshape(-1, seg.x.shape[-1]).astype(np.float64)
        x = x[np.any(x != 0.0, axis=1)]
        if len(x) < 2:
            x = np.zeros((2, seg.x.shape[-1]))
        p10, p90 = np.percentile(x, [10, 90], axis=0)
        feats.append(
            np.concatenate([x.mean(0), x.std(0), p10, p90, np.diff(x, axis=0).std(0), [np.log(len(x))]])
        )
    return np.array(feats)


def fit_and_score(
    x_train: np.ndarray, y_train: Sequence[int], x_test: np.ndarray, y_test: Sequence[int], labels, seed=0
) -> dict:  # noqa: ANN001
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed),
    )
    clf.fit(x_train, np.asarray(y_train))
    pred = clf.predict(x_test)
    return scores(confusion_matrix(y_test, pred, len(labels)), labels)


def floor_for_fold(cfg: Config, fold, cache_dir: Path | None = None, progress: bool = False) -> dict:  # noqa: ANN001
    """The floor's metrics on one fold, with `cfg`'s front end and normalization."""
    from ser_bnn.normalization import network_inputs
    from ser_bnn.train import prepare_config

    cfg = prepare_config(cfg, fold, cache_dir, progress)
    labels = list(cfg.labels)
    train = list(fold.train) + list(fold.dev)
    x, y = {}, {}
    for side, utts in (("train", train), ("test", list(fold.test))):
        seg = network_inputs(utts, cfg.features, None, cache_dir, progress)
        x[side] = utterance_statistics(seg, len(utts))
        y[side] = [labels.index(u.label) for u in utts]
    out = fit_and_score(x["train"], y["train"], x["test"], y["test"], labels, cfg.train.seed)
    out.update(
        model="linear-floor",
        fold=fold.name,
        norm=cfg.features.norm,
        test_speakers=list(fold.test_speakers),
        n_test_utterances=len(fold.test),
    )
    return out
