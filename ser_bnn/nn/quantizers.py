"""Binarization: sign with a straight-through estimator, and clipping of the latent weights.

The forward pass is `sign(x)` with `sign(0) = +1` (so every value is exactly +-1 and the
LCE converter can bit-pack it); the backward pass lets the gradient through where
`|x| <= 1` and blocks it elsewhere (Courbariaux et al. 2016; the paper, section 3.1).
Both are larq's own `ste_sign` / `weight_clip`, which the LCE converter recognises; this
module only fixes the clip value and gives the model code one place to ask for them.
"""

from __future__ import annotations

import larq as lq
import tensorflow as tf

from ser_bnn.config import ESTIMATORS

CLIP_VALUE = 1.0


def ste_sign(x: tf.Tensor) -> tf.Tensor:
    """sign(x) in {-1, +1} (sign(0) = +1); gradient 1 where |x| <= 1, 0 elsewhere."""
    return lq.quantizers.ste_sign(x, clip_value=CLIP_VALUE)


# Gradient estimators of the activation sign (forward: sign(x), sign(0) = +1, in every case, so the
# LCE converter bit-packs each the same way): "ste" passes the gradient unchanged where |x| <= 1 (the
# paper); "approx" is Bi-Real Net's piecewise-quadratic ApproxSign, 2 - 2|x| for |x| <= 1, closer to
# the forward sign near 0; "swish" is the SwishSign of BNN+ (beta 5), smooth and peaked at 0.
ESTIMATORS = ESTIMATORS


def binary_quantizer(binary: bool = True, estimator: str = "ste") -> lq.quantizers.Quantizer | None:
    """The quantizer for inputs (any of `ESTIMATORS`) and kernels ("ste") of a binary layer, or None
    for its float twin."""
    if not binary:
        return None
    if estimator == "approx":
        return lq.quantizers.ApproxSign()
    if estimator == "swish":
        return lq.quantizers.SwishSign()
    if estimator != "ste":
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    return lq.quantizers.SteSign(clip_value=CLIP_VALUE)


def weight_clip(binary: bool = True) -> lq.constraints.WeightClip | None:
    """Keeps latent binary weights in [-1, 1] (outside it the STE gradient would be zero)."""
    return lq.constraints.WeightClip(clip_value=CLIP_VALUE) if binary else None
