"""Evaluation: segment posteriors pooled per utterance, and re-evaluation of a finished run directory
(single fold or LOSO) from its saved weights."""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ser_bnn.config import Config
from ser_bnn.data.corpora import load_corpus
from ser_bnn.data.features import SegmentSet
from ser_bnn.data.inputs import network_inputs
from ser_bnn.dsp.segments import POOLINGS
from ser_bnn.errors import SerBnnError
from ser_bnn.training.metrics import confusion_matrix, pool_utterances, scores
from ser_bnn.training.report import aggregate_folds
from ser_bnn.training.rundir import finish_run, is_complete, load_trained, read_state

_PREDICT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict_segments(model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
    """Segment posteriors [N, C] in inference mode (a fixed batch-size model gets padded batches)."""
    import tensorflow as tf

    fixed = model.inputs[0].shape[0]
    size = fixed or batch_size
    fn = _PREDICT_FNS.get(model)
    if fn is None:
        # no autograph: fast trace; reduce_retracing: one batch-polymorphic trace serves the short last
        # batch of every set (else each new length retraces and TensorFlow warns about it)
        fn = tf.function(lambda xb: model(xb, training=False), autograph=False, reduce_retracing=True)
        _PREDICT_FNS[model] = fn
    out = []
    for i in range(0, len(x), size):
        chunk = x[i : i + size]
        pad = size - len(chunk) if fixed else 0
        if pad:
            chunk = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
        out.append(fn(tf.constant(chunk)).numpy()[: len(chunk) - pad])
    return np.concatenate(out) if out else np.zeros((0, model.outputs[0].shape[-1]), np.float32)


def speech_posteriors(model, seg: SegmentSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: ANN001
    """Posteriors [N, C] of the segments an utterance's decision pools, their utterance index [N], and
    which utterances have a speech segment: an utterance without any pools all of its segments."""
    n = len(seg.ids)
    speech = seg.speech if seg.speech is not None else np.ones(len(seg.utt), bool)
    has_speech = np.bincount(seg.utt[speech], minlength=n) > 0
    keep = speech | ~has_speech[seg.utt]
    return predict_segments(model, seg.x[keep]), seg.utt[keep], has_speech


def decide(
    post: np.ndarray, utt: np.ndarray, has_speech: np.ndarray, y_utt: Sequence[int], labels: Sequence[str],
    ids: Sequence[str], pooling: str,
) -> dict:  # fmt: skip
    """Pool per utterance with `pooling`, then UAR / WA / recall / confusion and the decisions."""
    n = len(ids)
    pred = pool_utterances(post, utt, n, pooling).argmax(axis=1)
    out = scores(confusion_matrix(y_utt, pred, len(labels)), labels)
    out["n_test_utterances"] = n
    out["n_no_speech"] = int((~has_speech).sum())
    out["predictions"] = {u: labels[p] for u, p in zip(ids, pred, strict=True)}
    return out


def evaluate_segments(  # noqa: ANN201
    model,  # noqa: ANN001
    seg: SegmentSet,
    y_utt: Sequence[int],
    labels: Sequence[str],
    pooling: str = "max",
) -> dict:
    """Pool the posteriors of the speech segments per utterance with the model's rule (`pooling`:
    "max" or "mean-log", as `ser-bnn predict` does; an utterance without any speech segment, counted
    in `n_no_speech`, pools over all of its segments), then UAR / WA / recall / confusion."""
    post, utt, has_speech = speech_posteriors(model, seg)
    return decide(post, utt, has_speech, y_utt, labels, seg.ids, pooling)


def _fold_dirs(run_dir: Path) -> list[Path]:
    return sorted(p.parent for p in run_dir.glob("*/split.json"))


def set_pooling(run_dir: Path, pooling: str | None) -> Config:
    """The run's config; with `pooling`, that decision rule is written into its config.json first
    (pooling acts after the network, so a trained run can change it; export then uses it too)."""
    import dataclasses

    cfg = Config.load(run_dir / "config.json")
    if pooling is not None and pooling != cfg.model.pooling:
        cfg = cfg.replace(model=dataclasses.replace(cfg.model, pooling=pooling)).validate()
        cfg.save(run_dir / "config.json")
    return cfg


def evaluate_fold_dir(
    run_dir: Path, data_dir: str | None, cache_dir: Path | None, progress: bool, pooling: str | None = None
) -> dict:

    if not is_complete(run_dir):
        state = read_state(run_dir)
        raise SerBnnError(
            f"{run_dir} is not a finished run (state: {state and state.get('status')}); "
            "finish it with `ser-bnn train --resume --out DIR`"
        )
    split = json.loads((run_dir / "split.json").read_text())
    set_pooling(run_dir, pooling)
    model, cfg = load_trained(run_dir)
    corpus = load_corpus(cfg.dataset, data_dir, **cfg.corpus_options)  # as training read it
    by_id = {u.id: u for u in corpus.utterances}
    missing = [i for i in split["test"] if i not in by_id]
    if missing:
        raise SerBnnError(
            f"{len(missing)} test utterances of the run are not in the corpus, e.g. {missing[0]}"
        )
    test = [by_id[i] for i in split["test"]]
    labels = list(cfg.labels)
    seg = network_inputs(test, cfg.features, None, cache_dir, progress)
    y = [labels.index(u.label) for u in test]
    metrics = evaluate_segments(model, seg, y, labels, cfg.model.pooling)
    old = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").is_file() else {}
    for k in ("epochs_trained", "best_epoch", "train_seconds", "best_dev_uar", "dev_speakers"):
        if k in old:
            metrics[k] = old[k]
    metrics.update(
        split=split["split"],
        fold=split["fold"],
        test_speakers=split["test_speakers"],
        model=cfg.model.name,
        pooling=cfg.model.pooling,
    )
    finish_run(run_dir, metrics)
    return metrics


def evaluate_run(
    run_dir: Path,
    data_dir: str | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    pooling: str | None = None,
) -> dict:
    """Evaluate a run directory; for LOSO runs, every fold and the aggregate. `pooling` ("max" or
    "mean-log") first sets the run's decision rule (`set_pooling`)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise SerBnnError(f"{run_dir} is not a run directory (no config.json)")
    if pooling is not None and pooling not in POOLINGS:
        raise SerBnnError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    if (run_dir / "split.json").is_file():
        return evaluate_fold_dir(run_dir, data_dir, cache_dir, progress, pooling)
    folds = _fold_dirs(run_dir)
    if not folds or not is_complete(run_dir):
        raise SerBnnError(f"{run_dir} is not a finished run; finish it with `ser-bnn train --resume`")
    per_fold = [evaluate_fold_dir(f, data_dir, cache_dir, progress, pooling) for f in folds]
    cfg = set_pooling(run_dir, pooling)
    split = json.loads((folds[0] / "split.json").read_text())["split"]
    return aggregate_folds(run_dir, per_fold, split, cfg.model.name)


def evaluate_fold(model, cfg: Config, fold, cache_dir: Path | None = None, progress: bool = True) -> dict:  # noqa: ANN001
    """Test-speaker metrics; speakers are standardized with their own statistics under `norm=speaker`."""
    labels = list(cfg.labels)
    seg = network_inputs(fold.test, cfg.features, None, cache_dir, progress)
    y = [labels.index(u.label) for u in fold.test]
    return evaluate_segments(model, seg, y, labels, cfg.model.pooling)
