"""Binary-op check: every binary layer of the Keras model must be a bit-packed LceBconv2d.

A binary layer is a larq `QuantConv2D` with a kernel quantizer (the conv, the input and
recurrent projections of both LSTM directions, the FC). In the flatbuffer each must be an
`LceBconv2d` with an int32 (bit-packed) filter, their numbers must match, and no float
CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / BATCH_MATMUL may carry a constant weight of a
binary layer's shape (a binary layer the converter left in float).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ser_bnn.errors import ExportError
from ser_bnn.runtime.flatbuffer import read_model

FLOAT_MATMULS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL")


@dataclass(frozen=True)
class BinaryLayer:
    name: str
    kernel_shape: tuple[int, ...]  # Keras (kh, kw, cin, cout)


def binary_layers(keras_model: Any) -> list[BinaryLayer]:
    """Every larq QuantConv2D with a kernel quantizer inside `keras_model` (nested layers included)."""
    import larq as lq

    out, seen = [], set()
    for layer in keras_model.submodules:
        binary = isinstance(layer, lq.layers.QuantConv2D) and layer.kernel_quantizer is not None
        if not binary or id(layer) in seen:
            continue
        seen.add(id(layer))
        shape = tuple(int(d) for d in layer.kernel.shape)
        out.append(BinaryLayer(layer.kernel.name.rsplit(":", 1)[0], shape))
    return out


def _dims(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(d for d in shape if d != 1))


def check_binary_ops(flatbuffer: bytes, expected: list[BinaryLayer]) -> dict[str, Any]:
    """Raise ExportError unless every binary layer became a bit-packed LceBconv2d."""
    info = read_model(flatbuffer, "converted model")
    bconvs = [w for op, w in info.op_weights if op == "LceBconv2d"]
    unpacked = [w for w in bconvs if not any(pos == 1 and dtype == "int32" for pos, _, dtype in w)]
    if unpacked:
        raise ExportError(f"{len(unpacked)} LceBconv2d op(s) have no bit-packed (int32) filter")
    for op, weights in info.op_weights:
        if op not in FLOAT_MATMULS:
            continue
        for _, shape, dtype in weights:
            for layer in expected:
                if dtype == "float32" and _dims(shape) == _dims(layer.kernel_shape):
                    raise ExportError(
                        f"binary layer {layer.name} {layer.kernel_shape} was converted to a float {op}, "
                        "not a bit-packed LceBconv2d"
                    )
    if len(bconvs) != len(expected):
        raise ExportError(
            f"the model has {len(expected)} binary layers but the flatbuffer has {len(bconvs)} "
            "LceBconv2d ops: a binary layer was not bit-packed"
        )
    return {
        "binary_layers": len(expected),
        "lce_bconv2d": len(bconvs),
        "layers": [{"name": b.name, "kernel_shape": list(b.kernel_shape)} for b in expected],
    }
