"""Inspect a .tflite flatbuffer: op counts (custom LCE ops by name, while-loop bodies included)
and constant bytes by dtype, without importing TensorFlow.

The TFLite schema reader is TensorFlow's generated `schema_py_generated.py`; it only needs
the `flatbuffers` package, so it is loaded from its file and the `tensorflow` package itself
is never imported (that would cost seconds and hundreds of MB).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ser_bnn.errors import ExportError

_DTYPE_NAMES = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    5: "string",
    6: "bool",
    7: "int16",
    8: "complex64",
    9: "int8",
    10: "float64",
}


@cache
def _schema() -> ModuleType:
    spec = importlib.util.find_spec("tensorflow")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ExportError("TensorFlow's TFLite schema is not installed (tensorflow package not found)")
    path = Path(next(iter(spec.submodule_search_locations))) / "lite" / "python" / "schema_py_generated.py"
    if not path.is_file():
        raise ExportError(f"TFLite schema not found at {path}")
    mod_spec = importlib.util.spec_from_file_location("_ser_bnn_tflite_schema", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


def _builtin_names(schema: ModuleType) -> dict[int, str]:
    ops = schema.BuiltinOperator
    return {v: k for k, v in vars(ops).items() if not k.startswith("_") and isinstance(v, int)}


def _read(path_or_bytes: str | Path | bytes) -> bytes:
    if isinstance(path_or_bytes, bytes | bytearray):
        return bytes(path_or_bytes)
    p = Path(path_or_bytes)
    if not p.is_file():
        raise ExportError(f"flatbuffer not found: {p}")
    return p.read_bytes()


def inspect_tflite(path_or_bytes: str | Path | bytes) -> dict[str, Any]:
    """Summarise a TFLite model.

    Returns a dict with:
      size_bytes: the flatbuffer size;
      ops: op name -> count over all subgraphs (custom ops by custom_code, e.g. 'LceBconv2d');
      subgraphs: per subgraph {name, ops: Counter};
      weight_bytes: dtype name -> bytes of constant buffers (each buffer counted once);
      weight_tensors: dtype name -> number of constant tensors;
      bconv_filter_bytes: bytes of the bit-packed filters of all LceBconv2d ops.
    """
    data = _read(path_or_bytes)
    schema = _schema()
    try:
        if not schema.Model.ModelBufferHasIdentifier(data, 0):
            raise ExportError("not a TFLite flatbuffer (missing 'TFL3' identifier)")
        model = schema.Model.GetRootAs(data, 0)
    except ExportError:
        raise
    except Exception as e:  # flatbuffers raises assorted errors on garbage
        raise ExportError(f"cannot parse TFLite flatbuffer: {e}") from None

    names = _builtin_names(schema)
    op_names = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        custom = oc.CustomCode()
        if custom:
            op_names.append(custom.decode() if isinstance(custom, bytes) else str(custom))
        else:
            op_names.append(names.get(code, f"BUILTIN_{code}"))

    total: Counter[str] = Counter()
    subgraphs = []
    weight_bytes: Counter[str] = Counter()
    weight_tensors: Counter[str] = Counter()
    seen_buffers: set[int] = set()
    bconv_filters: dict[int, int] = {}
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        ops: Counter[str] = Counter()
        for j in range(sg.OperatorsLength()):
            op = sg.Operators(j)
            ops[op_names[op.OpcodeIndex()]] += 1
            if op_names[op.OpcodeIndex()] == "LceBconv2d" and op.InputsLength() > 1:
                b = sg.Tensors(op.Inputs(1)).Buffer()
                if 0 < b < model.BuffersLength():
                    bconv_filters[b] = model.Buffers(b).DataLength()
        total.update(ops)
        name = sg.Name()
        subgraphs.append({"name": name.decode() if isinstance(name, bytes) else str(name or ""), "ops": ops})
        for t in range(sg.TensorsLength()):
            tensor = sg.Tensors(t)
            b = tensor.Buffer()
            if b <= 0 or b >= model.BuffersLength():
                continue
            buf = model.Buffers(b)
            n = buf.DataLength() or (int(buf.Size()) if hasattr(buf, "Size") else 0)
            if n <= 0:
                continue
            dtype = _DTYPE_NAMES.get(tensor.Type(), f"type{tensor.Type()}")
            weight_tensors[dtype] += 1
            if b not in seen_buffers:
                seen_buffers.add(b)
                weight_bytes[dtype] += n
    return {
        "size_bytes": len(data),
        "ops": dict(total),
        "subgraphs": subgraphs,
        "weight_bytes": dict(weight_bytes),
        "weight_tensors": dict(weight_tensors),
        "bconv_filter_bytes": sum(bconv_filters.values()),
    }
