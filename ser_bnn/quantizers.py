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

CLIP_VALUE = 1.0


def ste_sign(x: tf.Tensor) -> tf.Tensor:
    """sign(x) in {-1, +1} (sign(0) = +1); gradient 1 where |x| <= 1, 0 elsewhere."""
    return lq.quantizers.ste_sign(x, clip_value=CLIP_VALUE)


def binary_quantizer(binary: bool = True) -> lq.quantizers.SteSign | None:
    """The quantizer for inputs and kernels of a binary layer, or None for its float twin."""
    return lq.quantizers.SteSign(clip_value=CLIP_VALUE) if binary else None


def weight_clip(binary: bool = True) -> lq.constraints.WeightClip | None:
    """Keeps latent binary weights in [-1, 1] (outside it the STE gradient would be zero)."""
    return lq.constraints.WeightClip(clip_value=CLIP_VALUE) if binary else None
