"""The training losses: cross-entropy, distillation from a float teacher, and class-balance weights."""

from __future__ import annotations

import numpy as np


def classification_loss(y, p):  # noqa: ANN001, ANN201
    """Per-example cross-entropy of posteriors `p` against integer labels `y`."""
    import tensorflow as tf

    target = tf.one_hot(y, p.shape[-1])
    return -tf.reduce_sum(target * tf.math.log(tf.clip_by_value(p, 1e-7, 1.0)), axis=-1)


def distill_loss(student_p, teacher_p, temperature: float):  # noqa: ANN001, ANN201
    """Per-example T^2 * KL(teacher_T || student_T), both posteriors softened at temperature T."""
    import tensorflow as tf

    eps = 1e-7
    pt = tf.nn.softmax(tf.math.log(teacher_p + eps) / temperature)
    log_ps = tf.nn.log_softmax(tf.math.log(student_p + eps) / temperature)
    kl = tf.reduce_sum(pt * (tf.math.log(pt + eps) - log_ps), axis=-1)
    return temperature**2 * kl


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced weights n / (C * count), renormalized to a mean of 1 per example: the loss tracks UAR
    rather than accuracy."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    w = np.array([len(y) / (n_classes * k) if k else 0.0 for k in counts])
    w *= len(y) / max(float((w * counts).sum()), 1e-12)
    return {c: float(w[c]) for c in range(n_classes)}
