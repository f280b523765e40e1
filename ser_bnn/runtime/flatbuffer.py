"""Read .tflite flatbuffers without TensorFlow: the project's one flatbuffer reader and dtype table.

- `parse` walks a flatbuffer with bounds checks (`Reader`): every offset and vector is checked
  against the data length and every index against what it refers to, so a truncated or garbled
  file raises `FlatbufferError` instead of being read past its end.
- `read_model` (predict, the interpreter, export's op check): the main subgraph's signature,
  the metadata entries, op counts and the constant inputs of every operator; a bad file gives
  a one-line `SerBnnError`. It needs nothing but the standard library.
- `inspect_tflite` (export report, benchmarks): op counts with TFLite's builtin op names and
  constant bytes by dtype; a bad file gives an `ExportError`.
- `schema()`: TensorFlow's generated `schema_py_generated.py`, for the builtin op names and for
  writing (export embeds its metadata with the object API). It only needs the `flatbuffers`
  package, so it is loaded from its file and the `tensorflow` package itself is never imported
  (that would cost seconds and hundreds of MB).
"""

from __future__ import annotations

import importlib.util
import struct
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ser_bnn.errors import ExportError, SerBnnError

TFLITE_IDENTIFIER = b"TFL3"

# TFLite TensorType codes.
DTYPE_NAMES = {
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

# The builtin ops `read_model` names without the schema (the float ops export's op check looks for).
BUILTIN_NAMES = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 9: "FULLY_CONNECTED", 126: "BATCH_MATMUL"}


class FlatbufferError(Exception):
    """The flatbuffer is not sound (an offset, vector or index points outside what exists)."""


class Reader:
    """Bounds-checked reads of a flatbuffer (every offset is checked against the data length)."""

    def __init__(self, data: bytes) -> None:
        self.d = data
        self.n = len(data)

    def _get(self, fmt: str, pos: int) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > self.n:
            raise FlatbufferError(f"offset {pos} outside the file ({self.n} bytes)")
        return struct.unpack_from(fmt, self.d, pos)[0]

    def root(self) -> int:
        return self._deref(0)

    def _deref(self, pos: int) -> int:
        return pos + self._get("<I", pos)

    def _field(self, table: int, index: int) -> int:
        vtable = table - self._get("<i", table)
        vt_size = self._get("<H", vtable)
        slot = 4 + 2 * index
        if slot + 2 > vt_size:
            return 0
        off = self._get("<H", vtable + slot)
        return table + off if off else 0

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self._field(table, index)
        return self._get(fmt, pos) if pos else default

    def table(self, table: int, index: int) -> int:
        pos = self._field(table, index)
        return self._deref(pos) if pos else 0

    def vector(self, table: int, index: int, elem_size: int) -> tuple[int, int]:
        """(start of the elements, element count); (0, 0) when the field is absent."""
        pos = self._field(table, index)
        if not pos:
            return 0, 0
        vec = self._deref(pos)
        count = self._get("<I", vec)
        if vec + 4 + count * elem_size > self.n:
            raise FlatbufferError(f"vector of {count} elements at {vec} runs past the end of the file")
        return vec + 4, count

    def tables(self, table: int, index: int) -> list[int]:
        start, count = self.vector(table, index, 4)
        return [self._deref(start + 4 * i) for i in range(count)]

    def ints(self, table: int, index: int) -> list[int]:
        start, count = self.vector(table, index, 4)
        return [self._get("<i", start + 4 * i) for i in range(count)]

    def string(self, table: int, index: int) -> str:
        start, count = self.vector(table, index, 1)
        return self.d[start : start + count].decode("utf-8", "replace") if count else ""

    def bytes_(self, table: int, index: int) -> bytes:
        start, count = self.vector(table, index, 1)
        return bytes(self.d[start : start + count])


@dataclass(frozen=True)
class RawTensor:
    name: str
    shape: tuple[int, ...]
    type: int  # TensorType code (DTYPE_NAMES)
    buffer: int


@dataclass
class RawSubgraph:
    name: str
    tensors: list[RawTensor]
    operators: list[tuple[int, list[int]]]  # (operator code index, input tensor indices; -1 = none)
    inputs: list[int]
    outputs: list[int]


@dataclass
class RawModel:
    """What `parse` reads: operator codes, buffers, subgraphs and metadata, all indices checked."""

    op_codes: list[tuple[str, int]]  # (custom code or "", builtin code)
    buffers: list[tuple[int, int, int]]  # (inline data length, offset, size)
    subgraphs: list[RawSubgraph]
    metadata: dict[str, bytes]

    def op_names(self, builtin_names: Mapping[int, str], unknown: str = "builtin_{}") -> list[str]:
        """Operator code names: custom ops by custom code, builtins by `builtin_names`."""
        return [custom or builtin_names.get(code, unknown.format(code)) for custom, code in self.op_codes]

    def buffer_bytes(self, b: int) -> int:
        """Bytes held by buffer `b` (inline data, else the size of its out-of-line data)."""
        length, _, size = self.buffers[b]
        return length or size

    def has_data(self, b: int) -> bool:
        length, offset, size = self.buffers[b]
        return length > 0 or (offset > 1 and size > 0)


def parse(data: bytes) -> RawModel:
    """Walk a .tflite flatbuffer (identifier not checked); raise FlatbufferError if it is not sound."""
    r = Reader(data)
    model = r.root()
    # Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers, 6 metadata.
    op_codes = []
    for oc in r.tables(model, 1):  # OperatorCode: 0 deprecated_builtin_code, 1 custom_code, 3 builtin_code
        op_codes.append((r.string(oc, 1), max(r.scalar(oc, 0, "<b"), r.scalar(oc, 3, "<i"))))
    buffer_tables = r.tables(model, 4)
    buffers = []
    for b in buffer_tables:  # Buffer: 0 data, 1 offset (uint64), 2 size (uint64)
        _, count = r.vector(b, 0, 1)
        offset, size = r.scalar(b, 1, "<Q"), r.scalar(b, 2, "<Q")
        if offset > 1 and offset + size > r.n:
            raise FlatbufferError(f"buffer data at {offset} (+{size}) past the end of the file")
        buffers.append((count, offset, size))
    subgraph_tables = r.tables(model, 2)
    if not subgraph_tables:
        raise FlatbufferError("no subgraphs")
    subgraphs = []
    for sg in subgraph_tables:  # SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name
        tensors = []
        for t in r.tables(sg, 0):  # Tensor: 0 shape, 1 type, 2 buffer, 3 name
            shape = tuple(r.ints(t, 0))
            b = r.scalar(t, 2, "<I")
            if b >= max(len(buffers), 1):
                raise FlatbufferError("tensor refers to a missing buffer")
            tensors.append(RawTensor(r.string(t, 3), shape, r.scalar(t, 1, "<b"), b))
        n_t = len(tensors)
        operators = []
        for op in r.tables(sg, 3):  # Operator: 0 opcode_index, 1 inputs, 2 outputs
            idx = r.scalar(op, 0, "<I")
            if idx >= len(op_codes):
                raise FlatbufferError("operator refers to a missing operator code")
            op_in = r.ints(op, 1)
            if any(not -1 <= i < n_t for i in op_in + r.ints(op, 2)):
                raise FlatbufferError("operator refers to a missing tensor")
            operators.append((idx, op_in))
        ins, outs = r.ints(sg, 1), r.ints(sg, 2)
        if any(not 0 <= i < n_t for i in ins + outs):
            raise FlatbufferError("subgraph input/output refers to a missing tensor")
        subgraphs.append(RawSubgraph(r.string(sg, 4), tensors, operators, ins, outs))
    metadata = {}
    for m in r.tables(model, 6):  # Metadata: 0 name, 1 buffer
        b = r.scalar(m, 1, "<I")
        if b >= len(buffers):
            raise FlatbufferError("metadata refers to a missing buffer")
        metadata[r.string(m, 0)] = r.bytes_(buffer_tables[b], 0)
    return RawModel(op_codes=op_codes, buffers=buffers, subgraphs=subgraphs, metadata=metadata)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass
class ModelInfo:
    """What `read_model` finds in a .tflite: signature of the main subgraph and metadata entries."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    metadata: dict[str, bytes] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)
    # Per operator (all subgraphs): (op name, [(input position, shape, dtype) of constant inputs]).
    op_weights: list[tuple[str, list[tuple[int, tuple[int, ...], str]]]] = field(default_factory=list)


def read_model(data: bytes, name: str = "model") -> ModelInfo:
    """Walk a .tflite flatbuffer with bounds checks; raise a one-line SerBnnError if it is not sound.

    LCE's interpreter does not verify flatbuffers: a truncated or garbled file crashes the
    process (segmentation fault) instead of raising. This walk reads every vector the
    interpreter will touch (buffers, tensors, operators, signature tensors) and checks that
    each lies inside the file and each index is in range, so such files are refused first.
    It is not a full flatbuffer verifier: `predict` also compares the file's SHA-256 with the
    one recorded by `export` in the sidecar.
    """
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise SerBnnError(f"{name}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    try:
        raw = parse(data)
    except (FlatbufferError, UnicodeDecodeError) as e:
        raise SerBnnError(f"{name}: corrupt or truncated TFLite model ({e})") from None
    op_names = raw.op_names(BUILTIN_NAMES)
    ops: dict[str, int] = {}
    op_weights = []
    signatures = []
    for sg in raw.subgraphs:
        tensors = [TensorInfo(t.name, t.shape, DTYPE_NAMES.get(t.type, "other")) for t in sg.tensors]
        constant = [t.buffer < len(raw.buffers) and raw.has_data(t.buffer) for t in sg.tensors]
        constant.append(False)  # index -1: an optional input left out
        for idx, op_in in sg.operators:
            ops[op_names[idx]] = ops.get(op_names[idx], 0) + 1
            weights = [(p, tensors[i].shape, tensors[i].dtype) for p, i in enumerate(op_in) if constant[i]]
            op_weights.append((op_names[idx], weights))
        signatures.append(([tensors[i] for i in sg.inputs], [tensors[i] for i in sg.outputs]))
    inputs, outputs = signatures[0]
    return ModelInfo(inputs=inputs, outputs=outputs, metadata=raw.metadata, ops=ops, op_weights=op_weights)


@cache
def schema() -> ModuleType:
    """TensorFlow's generated TFLite schema module, loaded from its file (no `import tensorflow`)."""
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


def builtin_op_names() -> dict[int, str]:
    """Every TFLite builtin operator code -> its name (from the schema)."""
    ops = schema().BuiltinOperator
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
    names = builtin_op_names()
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ExportError("not a TFLite flatbuffer (missing 'TFL3' identifier)")
    try:
        model = parse(data)
    except (FlatbufferError, UnicodeDecodeError) as e:
        raise ExportError(f"cannot parse TFLite flatbuffer: {e}") from None

    op_names = model.op_names(names, "BUILTIN_{}")
    n_buffers = len(model.buffers)
    total: Counter[str] = Counter()
    subgraphs = []
    weight_bytes: Counter[str] = Counter()
    weight_tensors: Counter[str] = Counter()
    seen_buffers: set[int] = set()
    bconv_filters: dict[int, int] = {}
    for sg in model.subgraphs:
        ops: Counter[str] = Counter()
        for idx, op_in in sg.operators:
            ops[op_names[idx]] += 1
            if op_names[idx] == "LceBconv2d" and len(op_in) > 1 and op_in[1] >= 0:
                b = sg.tensors[op_in[1]].buffer
                if 0 < b < n_buffers:
                    bconv_filters[b] = model.buffers[b][0]
        total.update(ops)
        subgraphs.append({"name": sg.name, "ops": ops})
        for tensor in sg.tensors:
            b = tensor.buffer
            if b <= 0 or b >= n_buffers:
                continue
            n = model.buffer_bytes(b)
            if n <= 0:
                continue
            dtype = DTYPE_NAMES.get(tensor.type, f"type{tensor.type}")
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
