"""Model size and compute: parameters (binary vs float), MACs per segment, bit-packed size.

MACs count the multiply-accumulates of matrix products and convolutions for one segment
(batch 1): each binary convolution, the LSTM input projection over all timesteps and the
recurrent projection at every step, the FC layer, the XNOR-Net K box filter and the float
classifier. Element-wise work (BatchNorm, PReLU, gates, pooling) is not counted.
Size in bit-packed form = binary weights / 8 + float parameters * 4 bytes (float parameters
include the BatchNorm moving statistics).
"""

from __future__ import annotations

from typing import Any

import larq as lq
import numpy as np
import tf_keras as keras

from ser_bnn.config import Config
from ser_bnn.nn.layers import BinaryConv2D, BinaryDense
from ser_bnn.nn.lstm import BinaryLSTM


def _all_layers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    out = [layer]
    for sub in getattr(layer, "_self_tracked_trackables", []):
        if isinstance(sub, keras.layers.Layer):
            out.extend(_all_layers(sub))
    return out


def _is_binary_kernel(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, lq.layers.QuantConv2D) and layer.kernel_quantizer is not None


def model_summary(model: keras.Model, cfg: Config | None = None) -> dict[str, Any]:
    """Parameter counts, MACs per segment and sizes of a BCRNN/CRNN built by `build_model`."""
    binary_ids = set()
    for layer in _all_layers(model):
        if _is_binary_kernel(layer):
            binary_ids.add(id(layer.kernel))
    total = binary = 0
    for w in model.weights:
        n = int(np.prod(w.shape))
        total += n
        if id(w) in binary_ids:
            binary += n
    float_params = total - binary

    binary_macs = float_macs = 0
    per_layer = []
    for layer in model.layers:
        if isinstance(layer, BinaryConv2D | BinaryDense | BinaryLSTM):
            b, f = layer.mac_counts()
        elif isinstance(layer, keras.layers.Dense):
            b, f = 0, int(layer.kernel.shape[0] * layer.kernel.shape[1])
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w_, c = layer.output_shape
            b, f = 0, int(h * w_ * c * np.prod(layer.kernel.shape[:-1]))
        else:
            continue
        binary_macs += b
        float_macs += f
        per_layer.append({"layer": layer.name, "binary_macs": int(b), "float_macs": int(f)})
    macs = binary_macs + float_macs
    return {
        "name": model.name if cfg is None else cfg.model.name,
        "total_params": int(total),
        "binary_params": int(binary),
        "float_params": int(float_params),
        "macs": int(macs),
        "binary_macs": int(binary_macs),
        "float_macs": int(float_macs),
        "binary_mac_share": binary_macs / macs if macs else 0.0,
        "float32_bytes": int(total * 4),
        "bitpacked_bytes": int(np.ceil(binary / 8) + float_params * 4),
        "per_layer": per_layer,
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A plain-text table of `model_summary`."""
    rows = [
        ("model", str(summary["name"])),
        ("parameters (total)", f"{summary['total_params']:,}"),
        ("  binary", f"{summary['binary_params']:,}"),
        ("  float", f"{summary['float_params']:,}"),
        ("MACs per segment", f"{summary['macs']:,}"),
        ("  binary", f"{summary['binary_macs']:,}"),
        ("  float", f"{summary['float_macs']:,}"),
        ("binarized share of MACs", f"{summary['binary_mac_share']:.4%}"),
        ("size as float32", f"{summary['float32_bytes']:,} B"),
        ("size bit-packed", f"{summary['bitpacked_bytes']:,} B"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v:>16}" for k, v in rows]
    lines.append("")
    lines.append(f"{'layer':<{width}}  {'binary MACs':>16}  {'float MACs':>14}")
    for r in summary["per_layer"]:
        lines.append(f"{r['layer']:<{width}}  {r['binary_macs']:>16,}  {r['float_macs']:>14,}")
    return "\n".join(lines)
