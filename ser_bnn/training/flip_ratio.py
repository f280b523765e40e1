"""Flip ratio of the binary latent weights: the share whose sign changed during an epoch.

Larq's `FlipRatio` metric counts sign changes per optimizer step; this is its epoch-level
counterpart, computed from the weights at the end of consecutive epochs (no op in the training
step). A ratio near 0 means the binary weights have settled (or are stuck: the STE's gradient no
longer moves them across 0); a high ratio late in training means they still oscillate.
Each run directory gets `flips.json`: {"epochs": [{"epoch": k, "ratios": {layer: share}}]}.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ser_bnn.atomic import atomic_write_text

FLIPS = "flips.json"


def kernel_signs(kernels: list) -> dict[str, np.ndarray]:
    """{variable name: sign bits (kernel >= 0)} of the given latent binary kernels."""
    return {v.name.split(":")[0]: v.numpy() >= 0 for v in kernels}


def flip_ratios(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> dict[str, float]:
    """Per kernel, the share of weights whose sign differs; "all" over every binary weight."""
    out, flipped, total = {}, 0, 0
    for name, b in before.items():
        n = int(np.count_nonzero(b != after[name]))
        out[name] = n / b.size
        flipped, total = flipped + n, total + b.size
    out["all"] = flipped / max(total, 1)
    return out


def record_flips(run_dir: Path, epoch: int, before: dict, kernels: list) -> dict[str, np.ndarray]:
    """Append this epoch's flip ratios to `run_dir/flips.json`; returns the new sign bits."""
    after = kernel_signs(kernels)
    if before:
        path = Path(run_dir) / FLIPS
        rows = json.loads(path.read_text())["epochs"] if path.is_file() else []
        rows = [r for r in rows if r["epoch"] < epoch]
        ratios = {k: round(v, 6) for k, v in flip_ratios(before, after).items()}
        rows.append({"epoch": epoch, "ratios": ratios})
        atomic_write_text(path, json.dumps({"epochs": rows}, indent=1) + "\n")
    return after
