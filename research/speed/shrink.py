"""Make a .tflite flatbuffer smaller without changing what it computes, and account for its bytes.

The LCE/MLIR converter writes, for every tensor, its full TensorFlow scope name, an empty
quantization table and an empty buffer entry of its own, and writes every shape vector, options
table and custom-options vector once per use. For a graph of a few hundred ops that is noise; for
the BCRNN with its LSTM unrolled (150 steps x 2 directions: about 9,400 ops and 10,700 tensors)
it is most of the file. `shrink` rewrites the flatbuffer with:

- the names of tensors dropped, except the subgraphs' inputs and outputs (the names the
  interpreter and `ser_bnn.runtime.predict` see; signature entries keep their own names);
- empty quantization tables dropped (a tensor without one is not quantized, as before);
- every tensor without data pointing at buffer 0 (the schema's empty buffer) and identical
  constant buffers stored once (constant tensors may share a buffer), buffer data 16-byte aligned
  (the converter's is only 4-byte aligned);
- identical shape, custom-options and operator in/out vectors and identical options tables
  written once and referenced from every use (a flatbuffer may point at one object many times);
- empty optional vectors (intermediates, mutating_variable_inputs) left out.

Operators, tensor indices, operator codes, shapes, types, signature definitions and metadata
are unchanged, so the interpreter builds the same graph and computes bit-identical outputs
(tests/test_shrink.py checks it with LCE's interpreter). `anatomy` says where the bytes of a
flatbuffer are: names, tensor and operator tables, buffer entries and data, and so on.
"""

from __future__ import annotations

import hashlib
import struct
from collections import Counter
from typing import Any

import numpy as np

from ser_bnn.errors import ExportError
from ser_bnn.runtime.flatbuffer import TFLITE_IDENTIFIER, FlatbufferError, RawModel, Reader, parse, schema

DATA_ALIGNMENT = 16  # constant buffer data start (SIMD loads of weights; LCE 0.16 writes 4-aligned data)


def _check(data: bytes) -> RawModel:
    """The bounds-checked walk of `ser_bnn.runtime.flatbuffer.parse`; a one-line ExportError if unsound."""
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ExportError("not a TFLite flatbuffer (missing 'TFL3' identifier)")
    try:
        return parse(data)
    except (FlatbufferError, UnicodeDecodeError) as e:
        raise ExportError(f"cannot parse TFLite flatbuffer: {e}") from None


def _unpack(data: bytes) -> Any:
    _check(data)  # first: the generated reader does not check offsets
    return schema().ModelT.InitFromPackedBuf(bytearray(data), 0)


def _buffer_bytes(buf: Any) -> bytes | None:
    if buf.data is None or len(buf.data) == 0:
        return None
    return np.asarray(buf.data, dtype=np.uint8).tobytes()


def _empty_quantization(q: Any) -> bool:
    if q is None:
        return True
    fields = (q.min, q.max, q.scale, q.zeroPoint, q.details)
    return all(f is None or len(np.atleast_1d(f)) == 0 for f in fields[:4]) and q.details is None


class _Shared:
    """Stands in for an options object: packs it once per distinct content and reuses the offset."""

    def __init__(self, obj: Any, cache: dict[Any, int]) -> None:
        self.obj, self.cache = obj, cache
        self.key = (type(obj).__name__, repr(sorted((k, repr(v)) for k, v in vars(obj).items())))

    def Pack(self, builder: Any) -> int:  # noqa: N802  (the object API's method name)
        if self.key not in self.cache:
            self.cache[self.key] = self.obj.Pack(builder)
        return self.cache[self.key]


def _sharing_builder(size: int) -> Any:
    """A flatbuffers Builder whose `CreateNumpyVector` writes each distinct vector once."""
    import flatbuffers

    class SharingBuilder(flatbuffers.Builder):
        def __init__(self, n: int) -> None:
            super().__init__(n)
            self.vectors: dict[tuple[str, bytes], int] = {}

        def CreateNumpyVector(self, x: np.ndarray) -> int:  # noqa: N802
            key = (x.dtype.str, x.tobytes())
            if key not in self.vectors:
                self.vectors[key] = super().CreateNumpyVector(x)
            return self.vectors[key]

        def aligned_bytes(self, payload: bytes) -> int:
            """A [ubyte] vector whose first byte is DATA_ALIGNMENT-aligned in the finished file."""
            self.StartVector(1, len(payload), DATA_ALIGNMENT)
            self.head -= len(payload)
            self.Bytes[self.head : self.head + len(payload)] = payload
            return self.EndVector()

    return SharingBuilder(size)


def _pack_buffers(builder: Any, payloads: list[bytes | None]) -> int:
    tfl = schema()
    offsets = []
    for p in payloads:
        data = builder.aligned_bytes(p) if p is not None else None
        tfl.BufferStart(builder)
        if data is not None:
            tfl.BufferAddData(builder, data)
        offsets.append(tfl.BufferEnd(builder))
    builder.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        builder.PrependUOffsetTRelative(off)
    return builder.EndVector()


def shrink(data: bytes) -> bytes:
    """The flatbuffer `data` rewritten smaller with the same graph (module docstring)."""
    tfl = schema()
    model = _unpack(data)
    for b in model.buffers or []:
        if (b.offset or 0) > 1:
            raise ExportError("flatbuffer keeps buffer data outside itself (offset/size): not supported")
    # Buffers: 0 = empty, then each distinct constant payload once, then the metadata buffers.
    old = [_buffer_bytes(b) for b in model.buffers or []]
    payloads: list[bytes | None] = [None]
    by_content: dict[bytes, int] = {}
    remap: dict[int, int] = {}

    def keep(i: int, share: bool) -> int:
        if i not in remap:
            p = old[i]
            if p is None:
                remap[i] = 0
            elif share and p in by_content:
                remap[i] = by_content[p]
            else:
                payloads.append(p)
                remap[i] = len(payloads) - 1
                if share:
                    by_content.setdefault(p, remap[i])
        return remap[i]

    options: dict[Any, int] = {}
    for sg in model.subgraphs or []:
        kept = {*(() if sg.inputs is None else sg.inputs), *(() if sg.outputs is None else sg.outputs)}
        for i, t in enumerate(sg.tensors or []):
            if i not in kept:
                t.name = None
            if _empty_quantization(t.quantization):
                t.quantization = None
            if t.shape is not None:
                t.shape = np.asarray(t.shape, dtype=np.int32)
            if t.shapeSignature is not None:
                t.shapeSignature = np.asarray(t.shapeSignature, dtype=np.int32)
            if not (0 <= t.buffer < len(old)):
                raise ExportError(f"tensor {i} refers to a missing buffer {t.buffer}")
            t.buffer = keep(t.buffer, share=not t.isVariable)
        for op in sg.operators or []:
            op.inputs = np.asarray(op.inputs if op.inputs is not None else [], dtype=np.int32)
            op.outputs = np.asarray(op.outputs if op.outputs is not None else [], dtype=np.int32)
            if op.customOptions is not None:
                op.customOptions = np.asarray(op.customOptions, dtype=np.uint8)
            for f in ("intermediates", "mutatingVariableInputs"):
                v = getattr(op, f)
                if v is not None and not np.any(np.asarray(v)):
                    if f == "intermediates" and len(v):
                        continue  # tensor index 0 listed: keep
                    setattr(op, f, None)
            if op.builtinOptions is not None:
                op.builtinOptions = _Shared(op.builtinOptions, options)
            if op.builtinOptions2 is not None:
                op.builtinOptions2 = _Shared(op.builtinOptions2, options)
    for m in model.metadata or []:
        m.buffer = keep(m.buffer, share=False)
    model.buffers = None
    builder = _sharing_builder(len(data))
    # The model's own Pack with the buffers swapped in: buffers are written first (deepest in the file)
    buffers = _pack_buffers(builder, payloads)
    original_add = tfl.ModelAddBuffers
    root = _pack_model(model, builder, buffers, original_add)
    builder.Finish(root, file_identifier=TFLITE_IDENTIFIER)
    out = bytes(builder.Output())
    _unpack(out)  # the result walks soundly
    return out


def _pack_model(model: Any, builder: Any, buffers: int, add_buffers: Any) -> int:
    """`ModelT.Pack` (which packs `model.buffers`, here None) plus the already written buffers vector."""
    tfl = schema()
    original_end = tfl.ModelEnd

    def end_with_buffers(b: Any) -> int:
        add_buffers(b, buffers)
        return original_end(b)

    # ModelT.Pack looks ModelEnd up in the schema module's globals at call time
    tfl.ModelEnd = end_with_buffers
    try:
        return model.Pack(builder)
    finally:
        tfl.ModelEnd = original_end


class _Spans:
    """Byte accounting of a flatbuffer: each table, vtable, vector or string counted once, by kind."""

    def __init__(self, data: bytes) -> None:
        self.d, self.r = data, Reader(data)
        self.seen: set[int] = set()
        self.parts: Counter[str] = Counter()
        self.vtables: set[int] = set()

    def _once(self, kind: str, pos: int, n: int) -> None:
        if pos and pos not in self.seen:
            self.seen.add(pos)
            self.parts[kind] += n

    def table(self, kind: str, t: int) -> int:
        """Count table `t` (inline part) and its vtable; returns t."""
        if t:
            vt = t - struct.unpack_from("<i", self.d, t)[0]
            vt_size, inline = struct.unpack_from("<HH", self.d, vt)
            self._once(kind, t, inline)
            self._once("vtables", vt, vt_size)
            self.vtables.add(vt)
        return t

    def vector(self, kind: str, t: int, field: int, elem: int, string: bool = False) -> int:
        start, count = self.r.vector(t, field, elem)
        if start:
            self._once(kind, start - 4, 4 + count * elem + (1 if string else 0))
        return count

    def tables(self, kind: str, vec_kind: str, t: int, field: int) -> list[int]:
        self.vector(vec_kind, t, field, 4)
        return [self.table(kind, x) for x in self.r.tables(t, field)]


def anatomy(data: bytes) -> dict[str, Any]:
    """Where the bytes of a flatbuffer are, exactly: {"size_bytes", "tensors", "operators", "buffers",
    "buffers_with_data", "data_bytes", "duplicate_buffers", "duplicate_data_bytes", "distinct",
    "parts": {kind: bytes}}; `parts` sums to the file size ("padding and root" is the rest)."""
    raw = _check(data)  # the walk below is on the raw bytes
    s = _Spans(data)
    root = s.table("model table", s.r.root())
    for oc in s.tables("operator codes", "offset vectors", root, 1):
        s.vector("operator codes", oc, 1, 1, string=True)
    s.vector("model description", root, 3, 1, string=True)
    shapes: set[tuple[int, ...]] = set()
    for sg in s.tables("subgraph tables", "offset vectors", root, 2):
        for t in s.tables("tensor tables", "offset vectors", sg, 0):
            s.vector("tensor shape vectors", t, 0, 4)
            shapes.add(tuple(s.r.ints(t, 0)))
            s.vector("tensor names", t, 3, 1, string=True)
            q = s.table("quantization tables", s.r.table(t, 4))
            if q:
                for f, size in ((0, 4), (1, 4), (2, 4), (3, 8)):
                    s.vector("quantization tables", q, f, size)
            s.vector("tensor shape vectors", t, 7, 4)
        for v in (1, 2):
            s.vector("subgraph inputs/outputs", sg, v, 4)
        for op in s.tables("operator tables", "offset vectors", sg, 3):
            s.vector("operator in/out vectors", op, 1, 4)
            s.vector("operator in/out vectors", op, 2, 4)
            s.table("builtin options tables", s.r.table(op, 4))
            s.vector("custom options", op, 5, 1)
            s.vector("operator in/out vectors", op, 7, 1)
            s.vector("operator in/out vectors", op, 8, 4)
        s.vector("subgraph names", sg, 4, 1, string=True)
    meta = {}
    for m in s.tables("metadata", "offset vectors", root, 6):
        s.vector("metadata", m, 0, 1, string=True)
        meta[s.r.scalar(m, 1, "<I")] = True
    payloads = []
    for i, b in enumerate(s.tables("buffer tables", "offset vectors", root, 4)):
        n = s.vector("metadata" if i in meta else "constant buffer data", b, 0, 1)
        payloads.append(s.r.bytes_(b, 0) if n and i not in meta else None)
    s.vector("metadata", root, 5, 4)
    for sd in s.tables("signature defs", "signature defs", root, 7):
        for f in (0, 1):
            for tm in s.tables("signature defs", "signature defs", sd, f):
                s.vector("signature defs", tm, 0, 1, string=True)
        s.vector("signature defs", sd, 2, 1, string=True)
    parts = dict(s.parts)
    parts["padding and root"] = len(data) - sum(parts.values())
    digests = Counter(hashlib.sha256(p).digest() for p in payloads if p)
    sizes = {hashlib.sha256(p).digest(): len(p) for p in payloads if p}
    return {
        "size_bytes": len(data),
        "tensors": sum(len(sg.tensors) for sg in raw.subgraphs),
        "operators": sum(len(sg.operators) for sg in raw.subgraphs),
        "buffers": len(payloads),
        "buffers_with_data": sum(1 for p in payloads if p),
        "data_bytes": sum(len(p) for p in payloads if p),
        "duplicate_buffers": sum(c - 1 for c in digests.values()),
        "duplicate_data_bytes": sum((c - 1) * sizes[d] for d, c in digests.items()),
        "distinct": {"shapes": len(shapes), "vtables": len(s.vtables)},
        "parts": parts,
    }
