"""Speaker-independent training of one fold: augmentation, schedule, model selection, distillation.

Per epoch: one speed version per utterance (`augment.EpochSampler`), random gain and SpecAugment
masks, a learning rate from `lr_at` (linear warm-up, cosine decay), Adam with decoupled weight
decay on the float weights, and optionally distillation from a trained float twin
(`train.teacher`, `train.distill_weight`). After each epoch the model is evaluated on the
development speakers (carved from the training speakers); `best_weights.h5` keeps the epoch with
the best mean dev UAR over the last `select_window` epochs. Test speakers are only used once,
after training. Every epoch is checkpointed in the run directory (`ser_bnn.training.rundir`), so a killed
run resumes with `--resume`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn.atomic import atomic_write
from ser_bnn.config import Config
from ser_bnn.data.augment import EpochSampler, random_gain, spec_augment
from ser_bnn.data.features import SegmentSet
from ser_bnn.data.inputs import global_norm_stats, network_inputs
from ser_bnn.errors import SerBnnError
from ser_bnn.training.evaluate import evaluate_fold, evaluate_segments
from ser_bnn.training.flip_ratio import kernel_signs, record_flips
from ser_bnn.training.losses import class_weights, classification_loss, distill_loss
from ser_bnn.training.rundir import (
    BEST_WEIGHTS,
    check_run_dir,
    finish_run,
    read_history,
    save_savedmodel,
    write_history,
    write_run_files,
    write_state,
)
from ser_bnn.training.teacher import load_teacher


def lr_at(t, epoch: int) -> float:  # noqa: ANN001 - TrainConfig
    """Learning rate of a (0-based) epoch: linear warm-up from lr/10, then cosine decay or constant."""
    lr, w = t.learning_rate, t.warmup_epochs
    if epoch < w:
        return lr * (0.1 + 0.9 * epoch / w)
    if t.lr_decay == "none":
        return lr
    span = max(t.epochs - w - 1, 1)
    frac = min((epoch - w) / span, 1.0)
    low = lr * t.min_lr_ratio
    return low + (lr - low) * 0.5 * (1.0 + math.cos(math.pi * frac))


def binary_kernels(model) -> list:  # noqa: ANN001, ANN201
    """The latent weights of the binary layers (larq kernels with a quantizer)."""
    import larq as lq

    return [
        layer.kernel
        for layer in model.submodules
        if isinstance(layer, lq.layers.QuantConv2D) and layer.kernel_quantizer is not None
    ]


def decayed_weights(model) -> list:  # noqa: ANN001, ANN201
    """Float kernels (weight decay applies to them); binary latent kernels are clipped, never decayed."""
    binary = {id(v) for v in binary_kernels(model)}
    return [v for v in model.trainable_weights if "kernel" in v.name and id(v) not in binary]


def make_train_step(model, opt, t, teacher=None):  # noqa: ANN001, ANN201
    """One Adam step on a batch with per-example weights (class balance), then weight decay.

    A plain `tf.function` with autograph off: tracing tf_keras' `fit` machinery costs 25-55 s
    per process on this CPU, this costs a few seconds. The optimizer applies the kernels'
    constraints (larq's weight clip) after each update, as `fit` does. With a teacher, the loss is
    (1 - w) * weighted CE + w * weighted distillation loss.
    """
    import tensorflow as tf

    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)
    decay = decayed_weights(model) if t.weight_decay > 0 else []
    w_kd = float(t.distill_weight) if teacher is not None else 0.0

    @tf.function(
        autograph=False, input_signature=[spec, tf.TensorSpec([None], tf.int32), tf.TensorSpec([None])]
    )
    def step(x, y, w):  # noqa: ANN001, ANN202
        with tf.GradientTape() as tape:
            p = model(x, training=True)
            per = classification_loss(y, p)
            if w_kd > 0:
                per = (1.0 - w_kd) * per + w_kd * distill_loss(
                    p, teacher(x, training=False), t.distill_temperature
                )
            loss = tf.reduce_mean(per * w)
            if model.losses:
                loss += tf.add_n(model.losses)
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        lr = tf.cast(opt.learning_rate, tf.float32)
        for v in decay:
            v.assign_sub(lr * t.weight_decay * v)
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


def _smoothed(rows: list[dict], window: int) -> float:
    vals = [float(r["dev_uar"]) for r in rows[-window:]]
    return float(np.mean(vals)) if vals else float("nan")


def prepare_config(cfg: Config, fold, cache_dir: Path | None, progress: bool) -> Config:  # noqa: ANN001
    """Fill in what training computes from the training speakers: the fixed statistics of
    `global` (and the default statistics of `speaker`), estimated on the training speakers only."""
    fc = cfg.features
    if fc.standardize and fc.norm in ("global", "speaker") and not fc.norm_mean:
        mean, std = global_norm_stats(fold.train, fc, cache_dir, progress)
        cfg = cfg.replace(features=dataclasses.replace(fc, norm_mean=mean, norm_std=std))
    return cfg.validate()


@dataclass
class _FoldData:
    """What one fold trains and selects on: the training segments (one version per speed), labels,
    class weights, the dev segments, and the band scale of the gain augmentation."""

    sampler: EpochSampler
    y_train: np.ndarray  # [utterances] label index
    class_w: dict[int, float]
    seg_dev: SegmentSet | None
    y_dev: list[int]
    gain_std: np.ndarray | None


@dataclass
class _Loop:
    """The training state that checkpoints hold: the model, optimizer and selection counters."""

    model: Any
    opt: Any
    step: Any
    epoch: Any  # tf.Variable: epochs done
    best: Any  # tf.Variable: best smoothed dev UAR
    bad: Any  # tf.Variable: epochs without a better one
    manager: Any  # tf.train.CheckpointManager


def train_fold(
    cfg: Config,
    fold,  # ser_bnn.data.splits.Fold
    run_dir: Path,
    *,
    resume: bool = False,
    cache_dir: Path | None = None,
    progress: bool = True,
    split_name: str = "",
) -> dict:
    """Train one fold in `run_dir` and evaluate it on the fold's test speakers; returns metrics."""
    import tensorflow as tf

    run_dir = Path(run_dir)
    state = check_run_dir(run_dir, resume)
    if state is not None and state.get("status") == "complete":
        return json.loads((run_dir / "metrics.json").read_text())
    if state is not None:
        cfg = _resumed_config(cfg, run_dir)
    else:
        cfg = prepare_config(cfg, fold, cache_dir, progress)
    run_dir.mkdir(parents=True, exist_ok=True)
    split_info = write_run_files(cfg, fold, run_dir, split_name)
    if state is None:
        write_state(run_dir, status="training", epoch=0)
    t = cfg.train
    data = _fold_data(cfg, fold, cache_dir, progress)
    loop = _start_loop(cfg, fold, run_dir, fresh=state is None)
    start = int(loop.epoch.numpy())
    rows = read_history(run_dir, start)
    latent = binary_kernels(loop.model)
    signs = kernel_signs(latent)
    writer = tf.summary.create_file_writer(str(run_dir / "tb"))
    t_start = time.perf_counter()
    seconds_before = float(state.get("train_seconds", 0.0)) if state else 0.0
    bar = _progress_bar(t.epochs, start, fold.name) if progress else None
    for epoch in range(start, t.epochs):
        if int(loop.bad.numpy()) >= t.patience and data.seg_dev is not None:
            break
        e0 = time.perf_counter()
        loss, acc, lr = _fit_epoch(cfg, data, loop, epoch)
        signs = record_flips(run_dir, epoch + 1, signs, latent)
        if not np.isfinite(loss):
            raise SerBnnError(f"training diverged (loss {loss}) at epoch {epoch + 1}; try a lower --lr")
        row = _epoch_row(cfg, data, loop, epoch + 1, (loss, acc, lr), e0)
        rows.append(row)
        _select_and_save(loop, rows, run_dir, writer, t.select_window, has_dev=data.seg_dev is not None)
        seconds = seconds_before + time.perf_counter() - t_start
        write_state(run_dir, status="training", epoch=epoch + 1, train_seconds=seconds)
        if bar is not None:
            bar.update(1)
            sel = row["dev_uar_smoothed"]
            bar.set_postfix(loss=f"{row['loss']:.3f}", dev_uar=f"{row['dev_uar']:.3f}", sel=f"{sel:.3f}")
    if bar is not None:
        bar.close()
    writer.close()
    train_seconds = seconds_before + time.perf_counter() - t_start
    return _finish_fold(cfg, fold, run_dir, loop, rows, split_info, train_seconds, cache_dir, progress)


def _resumed_config(cfg: Config, run_dir: Path) -> Config:
    """The saved config of an interrupted run, with the training settings of this call (epochs and
    patience may be extended on resume); the network, features and labels must not change."""
    saved = Config.load(run_dir / "config.json")
    if saved.model != cfg.model or _no_stats(saved.features) != _no_stats(cfg.features):
        raise SerBnnError(f"{run_dir} was started with another model/feature config; cannot resume")
    if saved.labels != cfg.labels:
        raise SerBnnError(f"{run_dir} was started with other labels; cannot resume")
    return saved.replace(train=cfg.train)


def _fold_data(cfg: Config, fold, cache_dir: Path | None, progress: bool) -> _FoldData:  # noqa: ANN001
    """Seed everything, then the fold's network inputs (the training speakers once per speed)."""
    import tf_keras as keras

    t, fc = cfg.train, cfg.features
    lab_idx = {lab: i for i, lab in enumerate(cfg.labels)}
    keras.utils.set_random_seed(t.seed)
    versions = [
        network_inputs(fold.train, fc, t.train_segment_hop_frames, cache_dir, progress, speed=s).speech_only()
        for s in t.speed_perturb
    ]
    y_train = np.array([lab_idx[u.label] for u in fold.train], np.int32)
    seg_dev = network_inputs(fold.dev, fc, None, cache_dir, progress) if fold.dev else None
    return _FoldData(
        sampler=EpochSampler(versions, y_train),
        y_train=y_train,
        class_w=class_weights(y_train[versions[0].utt], len(cfg.labels)),
        seg_dev=seg_dev,
        y_dev=[lab_idx[u.label] for u in fold.dev],
        gain_std=np.array(fc.norm_std, np.float32) if fc.norm_std and fc.norm != "segment" else None,
    )


def _start_loop(cfg: Config, fold, run_dir: Path, fresh: bool) -> _Loop:  # noqa: ANN001
    """The model (from the teacher's weights when asked), optimizer and step, restored from the last
    checkpoint when there is one."""
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.nn.lstm import set_training_fast_paths
    from ser_bnn.nn.models import build_model

    t = cfg.train
    teacher = load_teacher(t, cfg, fold.name, fold.test_speakers)
    model = build_model(cfg)
    set_training_fast_paths(model, True)
    if teacher is not None and fresh and t.teacher_init:
        model.set_weights(teacher.get_weights())  # the BCRNN's latent weights start from its float twin
    opt = keras.optimizers.Adam(learning_rate=lr_at(t, 0))
    step = make_train_step(model, opt, t, teacher)
    epoch_v = tf.Variable(0, dtype=tf.int64, trainable=False)
    best_v = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
    bad_v = tf.Variable(0, dtype=tf.int64, trainable=False)
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt, epoch=epoch_v, best=best_v, bad=bad_v)
    manager = tf.train.CheckpointManager(ckpt, str(run_dir / "checkpoints"), max_to_keep=1)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
    return _Loop(model, opt, step, epoch_v, best_v, bad_v, manager)


def _progress_bar(epochs: int, start: int, name: str):  # noqa: ANN202 - tqdm
    from tqdm import tqdm

    return tqdm(total=epochs, initial=start, desc=f"train {name}", unit="epoch")


def _fit_epoch(cfg: Config, data: _FoldData, loop: _Loop, epoch: int) -> tuple[float, float, float]:
    """One pass over this epoch's speed versions, shuffled and augmented: (loss, accuracy, lr)."""
    t = cfg.train
    lr = lr_at(t, epoch)
    loop.opt.learning_rate.assign(lr)
    rng = np.random.default_rng(t.seed * 100003 + epoch)
    x_all, utt = data.sampler.epoch(rng)
    perm = rng.permutation(len(utt))
    x_epoch, y_epoch = x_all[perm], data.y_train[utt[perm]]
    if data.gain_std is not None and t.gain_db > 0:
        x_epoch = random_gain(x_epoch, t.gain_db, data.gain_std, rng)
    if t.spec_augment:
        x_epoch = spec_augment(x_epoch, t, rng)
    w_epoch = np.array([data.class_w[int(c)] for c in y_epoch], np.float32)
    loss, acc = run_epoch(loop.step, x_epoch, y_epoch, w_epoch, t.batch_size)
    return loss, acc, lr


def _epoch_row(cfg: Config, data: _FoldData, loop: _Loop, epoch: int, fit: tuple, e0: float) -> dict:
    """The history row of a trained (1-based) epoch, with the dev evaluation when there are dev speakers."""
    loss, acc, lr = fit
    dev = None
    if data.seg_dev is not None:
        dev = evaluate_segments(loop.model, data.seg_dev, data.y_dev, list(cfg.labels), cfg.model.pooling)
    return {
        "epoch": epoch,
        "loss": round(loss, 5),
        "accuracy": round(acc, 5),
        "dev_uar": round(dev["uar"], 5) if dev else float("nan"),
        "dev_wa": round(dev["wa"], 5) if dev else float("nan"),
        "lr": round(lr, 8),
        "seconds": round(time.perf_counter() - e0, 2),
    }


def _select_and_save(
    loop: _Loop, rows: list[dict], run_dir: Path, writer, window: int, *, has_dev: bool  # noqa: ANN001
) -> None:
    """Model selection on the smoothed dev UAR (the last epoch without dev speakers), then the
    epoch's checkpoint, TensorBoard scalars and history."""
    import tensorflow as tf

    row = rows[-1]
    smoothed = _smoothed(rows, window) if has_dev else float("nan")
    row["dev_uar_smoothed"] = round(smoothed, 5)
    if not has_dev or smoothed > float(loop.best.numpy()):
        loop.best.assign(smoothed if has_dev else 0.0)
        loop.bad.assign(0)
        model = loop.model
        atomic_write(run_dir / BEST_WEIGHTS, lambda p: model.save_weights(str(p), save_format="h5"))
    else:
        loop.bad.assign_add(1)
    with writer.as_default(step=row["epoch"]):
        for k in ("loss", "accuracy", "dev_uar", "dev_uar_smoothed", "lr"):
            tf.summary.scalar(k, row[k])
    loop.epoch.assign(row["epoch"])
    loop.manager.save(checkpoint_number=row["epoch"])
    write_history(run_dir, rows)


def _finish_fold(
    cfg: Config, fold, run_dir: Path, loop: _Loop, rows: list[dict], split_info: dict,  # noqa: ANN001
    train_seconds: float, cache_dir: Path | None, progress: bool,
) -> dict:  # fmt: skip
    """The selected weights, saved as a SavedModel and scored once on the test speakers."""
    from ser_bnn.nn.lstm import set_training_fast_paths

    model = loop.model
    model.load_weights(str(run_dir / BEST_WEIGHTS))
    set_training_fast_paths(model, False)
    save_savedmodel(model, run_dir / "model")
    metrics = evaluate_fold(model, cfg, fold, cache_dir=cache_dir, progress=progress)
    metrics.update(
        split=split_info["split"],
        fold=fold.name,
        test_speakers=list(fold.test_speakers),
        dev_speakers=split_info["dev_speakers"],
        model=cfg.model.name,
        pooling=cfg.model.pooling,
        epochs_trained=len(rows),
        best_epoch=_best_epoch(rows),
        train_seconds=round(train_seconds, 1),
        best_dev_uar=float(loop.best.numpy()),
    )
    finish_run(run_dir, metrics)
    return metrics


def _no_stats(fc):  # noqa: ANN001, ANN202
    return dataclasses.replace(fc, norm_mean=(), norm_std=())


def _best_epoch(rows: list[dict]) -> int:
    """The epoch whose weights were kept: best smoothed dev UAR (first of equals), else the last."""
    if not rows:
        return 0
    vals = [float(r.get("dev_uar_smoothed", r["dev_uar"])) for r in rows]
    if all(np.isnan(vals)):
        return int(rows[-1]["epoch"])
    return int(rows[int(np.nanargmax(vals))]["epoch"])
