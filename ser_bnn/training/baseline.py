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
from ser_bnn.data.inputs import network_inputs
from ser_bnn.dsp.stats import raw_config, signal_mask
from ser_bnn.training.metrics import confusion_matrix, scores

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


def corpus_statistics(
    cfg: Config, utterances: Sequence, cache_dir: Path | None = None, progress: bool = False
) -> dict[str, np.ndarray]:
    """{utterance id: statistics} under `cfg`'s normalization, computed once for any set of folds.

    `speaker` and `segment` standardization do not depend on the fold (each speaker's / segment's
    own statistics). `global` is one affine map per band for all utterances of a fold, and every
    statistic above is affine-equivariant per band, so after the z-scoring of the classifier it is
    the same as the raw log-Mel: the raw front end stands in for it (no fold-specific statistics).
    """
    fc = cfg.features
    if fc.norm == "global" or not fc.standardize:
        fc = raw_config(fc)
    seg = network_inputs(list(utterances), fc, None, cache_dir, progress)
    if not fc.standardize:  # raw log-Mel: padding frames become 0, as in standardized features
        seg.x = seg.x * signal_mask(seg.x, fc)[..., None]
    return dict(zip(seg.ids, utterance_statistics(seg, len(seg.ids)), strict=True))


def floor_for_folds(
    cfg: Config, folds: Sequence, cache_dir: Path | None = None, progress: bool = False
) -> list[dict]:
    """The floor's metrics on every fold, with `cfg`'s front end and normalization."""
    labels = list(cfg.labels)
    everyone = {u.id: u for f in folds for u in (*f.train, *f.dev, *f.test)}
    stats = corpus_statistics(cfg, list(everyone.values()), cache_dir, progress)
    out = []
    for fold in folds:
        train = list(fold.train) + list(fold.dev)
        x_tr = np.array([stats[u.id] for u in train])
        x_te = np.array([stats[u.id] for u in fold.test])
        y_tr = [labels.index(u.label) for u in train]
        y_te = [labels.index(u.label) for u in fold.test]
        m = fit_and_score(x_tr, y_tr, x_te, y_te, labels, cfg.train.seed)
        m.update(
            model="linear-floor",
            fold=fold.name,
            norm=cfg.features.norm,
            test_speakers=list(fold.test_speakers),
            n_test_utterances=len(fold.test),
        )
        out.append(m)
    return out


def floor_for_fold(cfg: Config, fold, cache_dir: Path | None = None, progress: bool = False) -> dict:  # noqa: ANN001
    """The floor on one fold (printed at the end of `ser-bnn train`)."""
    return floor_for_folds(cfg, [fold], cache_dir, progress)[0]
