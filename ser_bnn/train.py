"""Speaker-independent training with per-epoch checkpoints, resume and early stopping.

A run directory holds `config.json`, `labels.txt`, `split.json`, `state.json`, `checkpoints/`
(last epoch: weights, optimizer, counters), `best_weights.h5` (best on the development
speakers), `history.csv`, `tb/` (TensorBoard), and when finished `model/` (SavedModel),
`metrics.json` and `confusion.png`. `state.json` says `training` until everything is
written, then `complete`; every file is written atomically, so a killed run is either
resumable with `--resume` or complete, never half-written.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import time
import weakref
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ser_bnn.config import Config
from ser_bnn.errors import SerBnnError
from ser_bnn.features import SegmentSet, corpus_segments, global_norm_stats
from ser_bnn.io import atomic_write, atomic_write_text
from ser_bnn.metrics import confusion_matrix, plot_confusion, pool_utterances, scores

_PREDICT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
HISTORY_FIELDS = ["epoch", "loss", "accuracy", "dev_uar", "dev_wa", "lr", "seconds"]


def read_state(run_dir: Path) -> dict | None:
    p = Path(run_dir) / "state.json"
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        raise SerBnnError(f"{p} is unreadable; remove the run directory or use another --out") from None


def write_state(run_dir: Path, **state: object) -> None:
    atomic_write_text(Path(run_dir) / "state.json", json.dumps(state, indent=2) + "\n")


def predict_segments(model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
    """Segment posteriors [N, C] in inference mode (a fixed batch-size model gets padded batches)."""
    import tensorflow as tf

    fixed = model.inputs[0].shape[0]
    size = fixed or batch_size
    fn = _PREDICT_FNS.get(model)
    if fn is None:
        fn = tf.function(lambda xb: model(xb, training=False), autograph=False)  # no autograph: fast trace
        _PREDICT_FNS[model] = fn
    out = []
    for i in range(0, len(x), size):
        chunk = x[i : i + size]
        pad = size - len(chunk) if fixed else 0
        if pad:
            chunk = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
        out.append(fn(tf.constant(chunk)).numpy()[: len(chunk) - pad])
    return np.concatenate(out) if out else np.zeros((0, model.outputs[0].shape[-1]), np.float32)


def evaluate_segments(model, seg: SegmentSet, y_utt: Sequence[int], labels: Sequence[str]) -> dict:  # noqa: ANN001
    """Max-pool segment posteriors per utterance, then UAR / WA / recall / confusion."""
    post = predict_segments(model, seg.x)
    pooled = pool_utterances(post, seg.utt, len(seg.ids))
    pred = pooled.argmax(axis=1)
    cm = confusion_matrix(y_utt, pred, len(labels))
    out = scores(cm, labels)
    out["n_test_utterances"] = len(seg.ids)
    out["predictions"] = {u: labels[p] for u, p in zip(seg.ids, pred, strict=True)}
    return out


def spec_augment(x: np.ndarray, t, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001
    """SpecAugment masks on standardized features: masked cells become 0 (the features' mean)."""
    x = x.copy()
    n, frames, bands = x.shape
    for _ in range(t.time_masks):
        w = rng.integers(0, t.time_mask_frames + 1, n)
        s = rng.integers(0, frames, n)
        idx = np.arange(frames)[None, :]
        x[(idx >= s[:, None]) & (idx < (s + w)[:, None])] = 0.0
    for _ in range(t.freq_masks):
        w = rng.integers(0, t.freq_mask_bands + 1, n)
        s = rng.integers(0, bands, n)
        idx = np.arange(bands)[None, :]
        m = (idx >= s[:, None]) & (idx < (s + w)[:, None])
        x *= ~m[:, None, :]
    return x


def make_train_step(model, opt):  # noqa: ANN001, ANN201
    """One Adam step on a batch with per-example weights (class balance).

    A plain `tf.function` with autograph off: tracing tf_keras' `fit` machinery costs 25-55 s
    per process on this CPU, this costs a few seconds. The optimizer applies the kernels'
    constraints (larq's weight clip) after each update, as `fit` does.
    """
    import tensorflow as tf
    import tf_keras as keras

    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)

    @tf.function(
        autograph=False, input_signature=[spec, tf.TensorSpec([None], tf.int32), tf.TensorSpec([None])]
    )
    def step(x, y, w):  # noqa: ANN001, ANN202
        with tf.GradientTape() as tape:
            p = model(x, training=True)
            per = keras.losses.sparse_categorical_crossentropy(y, p)
            loss = tf.reduce_mean(per * w)
            if model.losses:
                loss += tf.add_n(model.losses)
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(p, -1, output_type=tf.int32), y), tf.float32))
        return loss, correct

    return step


def run_epoch(step, x: np.ndarray, y: np.ndarray, w: np.ndarray, batch_size: int):  # noqa: ANN001, ANN201
    """One pass over (already shuffled) data; returns (mean weighted loss, accuracy)."""
    total_loss, correct, n = 0.0, 0.0, 0
    for i in range(0, len(x), batch_size):
        xb, yb, wb = x[i : i + batch_size], y[i : i + batch_size], w[i : i + batch_size]
        loss, c = step(xb, yb, wb)
        total_loss += float(loss) * len(xb)
        correct += float(c)
        n += len(xb)
    return total_loss / max(n, 1), correct / max(n, 1)


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced weights n / (C * count): the loss then tracks UAR rather than accuracy."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return {c: float(len(y) / (n_classes * counts[c])) if counts[c] else 0.0 for c in range(n_classes)}


def _history_rows(path: Path, upto_epoch: int) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if int(r["epoch"]) <= upto_epoch]


def _write_history(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS)
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def save_savedmodel(model, target: Path) -> None:  # noqa: ANN001
    """Write a SavedModel into a temporary sibling and rename it into place."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp), save_format="tf", include_optimizer=False)
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def check_run_dir(run_dir: Path, resume: bool) -> dict | None:
    """Refuse to overwrite a finished or foreign run; return the saved state when resuming."""
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


def train_fold(
    cfg: Config,
    fold,  # ser_bnn.splits.Fold
    run_dir: Path,
    *,
    resume: bool = False,
    cache_dir: Path | None = None,
    progress: bool = True,
    split_name: str = "",
) -> dict:
    """Train one fold in `run_dir` and evaluate it on the fold's test speakers; returns metrics."""
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.models import build_model

    run_dir = Path(run_dir)
    state = check_run_dir(run_dir, resume)
    if state is not None and state.get("status") == "complete":
        return json.loads((run_dir / "metrics.json").read_text())
    if state is not None:
        saved = Config.load(run_dir / "config.json")
        if (
            saved.model != cfg.model
            or _no_stats(saved.features) != _no_stats(cfg.features)
            or (saved.labels != cfg.labels)
        ):
            raise SerBnnError(f"{run_dir} was started with another model/feature config; cannot resume")
        cfg = saved.replace(train=cfg.train)  # epochs/patience may be extended on resume
    elif cfg.features.norm == "global" and not cfg.features.norm_mean:
        mean, std = global_norm_stats(fold.train, cfg.features, cache_dir, progress)
        cfg = cfg.replace(features=dataclasses.replace(cfg.features, norm_mean=mean, norm_std=std))
    run_dir.mkdir(parents=True, exist_ok=True)
    labels = list(cfg.labels)
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    cfg.save(run_dir / "config.json")
    atomic_write_text(run_dir / "labels.txt", "\n".join(labels) + "\n")
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
    if state is None:
        write_state(run_dir, status="training", epoch=0)

    t = cfg.train
    keras.utils.set_random_seed(t.seed)
    fc = cfg.features
    seg_train = corpus_segments(fold.train, fc, t.train_segment_hop_frames, cache_dir, progress)
    y_train = np.array([lab_idx[fold.train[i].label] for i in seg_train.utt], np.int32)
    seg_dev = corpus_segments(fold.dev, fc, None, cache_dir, progress) if fold.dev else None
    y_dev = [lab_idx[u.label] for u in fold.dev]

    model = build_model(cfg)
    opt = keras.optimizers.Adam(learning_rate=t.learning_rate)
    step = make_train_step(model, opt)
    epoch_v = tf.Variable(0, dtype=tf.int64, trainable=False)
    best_v = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
    bad_v = tf.Variable(0, dtype=tf.int64, trainable=False)
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt, epoch=epoch_v, best=best_v, bad=bad_v)
    manager = tf.train.CheckpointManager(ckpt, str(run_dir / "checkpoints"), max_to_keep=1)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
    start = int(epoch_v.numpy())
    hist_path = run_dir / "history.csv"
    rows = _history_rows(hist_path, start)
    writer = tf.summary.create_file_writer(str(run_dir / "tb"))
    cw = class_weights(y_train, len(labels))
    w_train = np.array([cw[int(c)] for c in y_train], np.float32)
    t_start = time.perf_counter()
    seconds_before = float(state.get("train_seconds", 0.0)) if state else 0.0

    epochs = range(start, t.epochs)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=t.epochs, initial=start, desc=f"train {fold.name}", unit="epoch")
    for epoch in epochs:
        if int(bad_v.numpy()) >= t.patience and seg_dev is not None:
            break
        e0 = time.perf_counter()
        rng = np.random.default_rng(t.seed * 100003 + epoch)
        perm = rng.permutation(len(y_train))
        x_epoch = spec_augment(seg_train.x[perm], t, rng) if t.spec_augment else seg_train.x[perm]
        loss, acc = run_epoch(step, x_epoch, y_train[perm], w_train[perm], t.batch_size)
        if not np.isfinite(loss):
            raise SerBnnError(f"training diverged (loss {loss}) at epoch {epoch + 1}; try a lower --lr")
        dev = evaluate_segments(model, seg_dev, y_dev, labels) if seg_dev is not None else None
        dev_uar = dev["uar"] if dev else float("nan")
        if dev is None or dev_uar > float(best_v.numpy()):
            best_v.assign(dev_uar if dev else 0.0)
            bad_v.assign(0)
            atomic_write(run_dir / "best_weights.h5", lambda p: model.save_weights(str(p), save_format="h5"))
        else:
            bad_v.assign_add(1)
        row = {
            "epoch": epoch + 1,
            "loss": round(loss, 5),
            "accuracy": round(acc, 5),
            "dev_uar": round(dev_uar, 5),
            "dev_wa": round(dev["wa"], 5) if dev else float("nan"),
            "lr": t.learning_rate,
            "seconds": round(time.perf_counter() - e0, 2),
        }
        with writer.as_default(step=epoch + 1):
            for k in ("loss", "accuracy", "dev_uar"):
                tf.summary.scalar(k, row[k])
        epoch_v.assign(epoch + 1)
        manager.save(checkpoint_number=epoch + 1)
        rows.append(row)
        _write_history(hist_path, rows)
        write_state(
            run_dir,
            status="training",
            epoch=epoch + 1,
            train_seconds=seconds_before + time.perf_counter() - t_start,
        )
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", dev_uar=f"{dev_uar:.3f}")
    if bar is not None:
        bar.close()
    writer.close()
    train_seconds = seconds_before + time.perf_counter() - t_start

    model.load_weights(str(run_dir / "best_weights.h5"))
    save_savedmodel(model, run_dir / "model")
    metrics = evaluate_fold(model, cfg, fold, cache_dir=cache_dir, progress=progress)
    metrics.update(
        split=split_info["split"],
        fold=fold.name,
        test_speakers=list(fold.test_speakers),
        dev_speakers=split_info["dev_speakers"],
        model=cfg.model.name,
        epochs_trained=len(rows),
        best_epoch=_best_epoch(rows),
        train_seconds=round(train_seconds, 1),
        best_dev_uar=float(best_v.numpy()),
    )
    finish_run(run_dir, metrics)
    return metrics


def _no_stats(fc):  # noqa: ANN001, ANN202
    return dataclasses.replace(fc, norm_mean=(), norm_std=())


def _best_epoch(rows: list[dict]) -> int:
    if not rows:
        return 0
    vals = [float(r["dev_uar"]) for r in rows]
    if all(np.isnan(vals)):
        return int(rows[-1]["epoch"])
    return int(rows[int(np.nanargmax(vals))]["epoch"])


def evaluate_fold(model, cfg: Config, fold, cache_dir: Path | None = None, progress: bool = True) -> dict:  # noqa: ANN001
    labels = list(cfg.labels)
    seg = corpus_segments(fold.test, cfg.features, None, cache_dir, progress)
    y = [labels.index(u.label) for u in fold.test]
    return evaluate_segments(model, seg, y, labels)


def finish_run(run_dir: Path, metrics: dict) -> None:
    """Write metrics and the confusion plot, then mark the run complete (in that order)."""
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    plot_confusion(
        np.array(metrics["confusion"]),
        metrics["labels"],
        run_dir / "confusion.png",
        title=f"{metrics.get('model', '')} {metrics.get('fold', '')}: UAR {100 * metrics['uar']:.1f}%",
    )
    write_state(
        run_dir,
        status="complete",
        epoch=metrics.get("epochs_trained", 0),
        train_seconds=metrics.get("train_seconds", 0.0),
    )


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
    atomic_write_text(Path(run_dir) / "metrics.json", json.dumps(out, indent=2) + "\n")
    plot_confusion(
        cm,
        labels,
        Path(run_dir) / "confusion.png",
        title=f"{model} {split}: UAR {100 * out['uar']:.1f} +- {100 * out['uar_std']:.1f}%",
    )
    return out


def config_summary(cfg: Config) -> str:
    t = asdict(cfg.train)
    return ", ".join(f"{k}={v}" for k, v in t.items())


def finish_summary(run_dir: Path, metrics: dict, seconds: float) -> str:
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
    width = max(len(k) for k in metrics["per_class_recall"]) if metrics.get("per_class_recall") else 8
    for lab, r in metrics.get("per_class_recall", {}).items():
        lines.append(f"  {lab:<{width}}  recall {100 * r:5.1f} %  " + "#" * int(round(20 * r)))
    lines.append(f"time: {seconds:.0f} s   files: metrics.json, confusion.png, history.csv, model/")
    return "\n".join(lines)
