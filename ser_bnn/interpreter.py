"""Run a converted .tflite with LCE's interpreter, without importing TensorFlow.

`import larq_compute_engine` imports TensorFlow (its converter): about 3.5 s and 490 MB before
the first prediction. The interpreter itself is one compiled extension module,
`larq_compute_engine/tflite/python/interpreter_wrapper_lite*.so`, which needs neither
TensorFlow nor the package's `__init__`. `load_wrapper` finds the package directory with
`importlib.util.find_spec` (which does not import a top-level package) and loads only that
extension from its file. If the package was already imported (export, tests), the loaded
module is reused. `LceInterpreter` is the small part of LCE's `Interpreter` class we need.

LCE's optimized kernels target arm64 (Android, Raspberry Pi); on x86 the binary convolution
falls back to reference kernels: outputs are the same, latency is not representative.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import struct
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from ser_bnn.errors import SerBnnError
from ser_bnn.flatbuffer import _DTYPE_NAMES

WRAPPER_MODULE = "larq_compute_engine.tflite.python.interpreter_wrapper_lite"
TFLITE_IDENTIFIER = b"TFL3"


@cache
def load_wrapper() -> ModuleType:
    """The compiled `interpreter_wrapper_lite` module of larq-compute-engine (no TensorFlow import)."""
    if WRAPPER_MODULE in sys.modules:
        return sys.modules[WRAPPER_MODULE]
    spec = importlib.util.find_spec("larq_compute_engine")
    if spec is None or not spec.submodule_search_locations:
        raise SerBnnError("larq-compute-engine is not installed (pip install larq-compute-engine)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "tflite" / "python"
    candidates = sorted(
        p
        for p in folder.glob("interpreter_wrapper_lite*")
        if any(p.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES)
    )
    if not candidates:
        raise SerBnnError(f"LCE interpreter extension not found in {folder}")
    loader = importlib.machinery.ExtensionFileLoader(WRAPPER_MODULE, str(candidates[0]))
    mod_spec = importlib.util.spec_from_file_location(WRAPPER_MODULE, candidates[0], loader=loader)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    # Registered under its real name, so a later `import larq_compute_engine` reuses it.
    sys.modules[WRAPPER_MODULE] = module
    return module


BUILTIN_NAMES = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 9: "FULLY_CONNECTED", 126: "BATCH_MATMUL"}
_DTYPES = _DTYPE_NAMES  # TFLite TensorType codes (ser_bnn.flatbuffer imports no TensorFlow)


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


class _FlatbufferError(Exception):
    pass


class _Reader:
    """Bounds-checked reads of a flatbuffer (every offset is checked against the data length)."""

    def __init__(self, data: bytes) -> None:
        self.d = data
        self.n = len(data)

    def _get(self, fmt: str, pos: int) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > self.n:
            raise _FlatbufferError(f"offset {pos} outside the file ({self.n} bytes)")
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
            raise _FlatbufferError(f"vector of {count} elements at {vec} runs past the end of the file")
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
    r = _Reader(data)
    try:
        model = r.root()
        # Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers, 6 metadata.
        op_names = []
        for oc in r.tables(model, 1):
            custom = r.string(oc, 1)
            code = max(r.scalar(oc, 0, "<b"), r.scalar(oc, 3, "<i"))
            op_names.append(custom or BUILTIN_NAMES.get(code, f"builtin_{code}"))
        buffers = r.tables(model, 4)
        has_data = []
        for b in buffers:  # Buffer: 0 data, 1 offset (uint64), 2 size (uint64)
            _, count = r.vector(b, 0, 1)
            offset, size = r.scalar(b, 1, "<Q"), r.scalar(b, 2, "<Q")
            if offset > 1 and offset + size > r.n:
                raise _FlatbufferError(f"buffer data at {offset} (+{size}) past the end of the file")
            has_data.append(count > 0 or (offset > 1 and size > 0))
        subgraphs = r.tables(model, 2)
        if not subgraphs:
            raise _FlatbufferError("no subgraphs")
        ops: dict[str, int] = {}
        op_weights = []
        main_io: tuple[list[TensorInfo], list[TensorInfo]] = ([], [])
        for s_i, sg in enumerate(subgraphs):  # SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators
            tensors, constant = [], []
            for t in r.tables(sg, 0):  # Tensor: 0 shape, 1 type, 2 buffer, 3 name
                shape = tuple(r.ints(t, 0))
                b = r.scalar(t, 2, "<I")
                if b >= max(len(buffers), 1):
                    raise _FlatbufferError("tensor refers to a missing buffer")
                tensors.append(TensorInfo(r.string(t, 3), shape, _DTYPES.get(r.scalar(t, 1, "<b"), "other")))
                constant.append(b < len(has_data) and has_data[b])
            n_t = len(tensors)
            for op in r.tables(sg, 3):  # Operator: 0 opcode_index, 1 inputs, 2 outputs
                idx = r.scalar(op, 0, "<I")
                if idx >= len(op_names):
                    raise _FlatbufferError("operator refers to a missing operator code")
                op_in = r.ints(op, 1)
                if any(not -1 <= i < n_t for i in op_in + r.ints(op, 2)):
                    raise _FlatbufferError("operator refers to a missing tensor")
                ops[op_names[idx]] = ops.get(op_names[idx], 0) + 1
                op_weights.append(
                    (
                        op_names[idx],
                        [
                            (pos, tensors[i].shape, tensors[i].dtype)
                            for pos, i in enumerate(op_in)
                            if i >= 0 and constant[i]
                        ],
                    )
                )
            ins, outs = r.ints(sg, 1), r.ints(sg, 2)
            if any(not 0 <= i < n_t for i in ins + outs):
                raise _FlatbufferError("subgraph input/output refers to a missing tensor")
            if s_i == 0:
                main_io = ([tensors[i] for i in ins], [tensors[i] for i in outs])
        metadata = {}
        for m in r.tables(model, 6):  # Metadata: 0 name, 1 buffer
            b = r.scalar(m, 1, "<I")
            if b >= len(buffers):
                raise _FlatbufferError("metadata refers to a missing buffer")
            metadata[r.string(m, 0)] = r.bytes_(buffers[b], 0)
    except (_FlatbufferError, UnicodeDecodeError) as e:
        raise SerBnnError(f"{name}: corrupt or truncated TFLite model ({e})") from None
    return ModelInfo(inputs=main_io[0], outputs=main_io[1], metadata=metadata, ops=ops, op_weights=op_weights)


class LceInterpreter:
    """One loaded model with a single float32 input and a single output.

    `num_threads`, `use_indirect_bgemm` and `use_xnnpack` are LCE's interpreter options; the
    defaults (1 thread, no XNNPACK) match what the Android runtime (lce-lite) runs.
    Do not use `use_indirect_bgemm=True` with the BCRNN: in LCE 0.16 its indirection buffer goes
    stale for the LceBconv2d ops inside WHILE loops, so every invocation after the first returns
    wrong outputs (deploy/benchmark.py shows it).
    """

    def __init__(
        self,
        model: bytes | str | Path,
        num_threads: int = 1,
        use_indirect_bgemm: bool = False,
        use_xnnpack: bool = False,
        use_reference_bconv: bool = False,
    ) -> None:
        if isinstance(model, str | Path):
            p = Path(model)
            try:
                model = p.read_bytes()
            except OSError as e:
                raise SerBnnError(f"cannot read model {p}: {e.strerror or e}") from None
            name = str(p)
        else:
            name = "model"
        self.info = read_model(model, name)
        if num_threads < 1:
            raise SerBnnError(f"num_threads must be >= 1, got {num_threads}")
        self.model_bytes = bytes(model)
        wrapper = load_wrapper()
        try:
            self._interp = wrapper.LiteInterpreter(
                self.model_bytes,
                int(num_threads),
                bool(use_reference_bconv),
                bool(use_indirect_bgemm),
                bool(use_xnnpack),
            )
        except (RuntimeError, ValueError) as e:
            msg = " ".join(str(e).split()) or type(e).__name__
            raise SerBnnError(f"{name}: the TFLite interpreter rejected the model ({msg})") from None
        if len(self.input_shapes) != 1 or len(self.output_shapes) != 1:
            raise SerBnnError(
                f"{name}: expected one input and one output, got {len(self.input_shapes)} and "
                f"{len(self.output_shapes)}"
            )

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(d) for d in s) for s in self._interp.input_shapes]

    @property
    def output_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(d) for d in s) for s in self._interp.output_shapes]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input_shapes[0]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.output_shapes[0]

    def run(self, x: np.ndarray) -> np.ndarray:
        """One invocation: `x` has exactly the input shape (batch included); returns the output."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if tuple(x.shape) != self.input_shape:
            raise SerBnnError(f"model input must have shape {self.input_shape}, got {tuple(x.shape)}")
        return np.array(self._interp.predict([x])[0], copy=True)

    def predict(self, examples: np.ndarray) -> np.ndarray:
        """Run each example [N, *input_shape[1:]] through a batch-1 model: returns [N, *output_shape[1:]]."""
        examples = np.asarray(examples, dtype=np.float32)
        if self.input_shape[0] != 1:
            raise SerBnnError(f"expected a batch-1 model, input shape is {self.input_shape}")
        if len(examples) == 0:
            return np.zeros((0, *self.output_shape[1:]), np.float32)
        return np.concatenate([self.run(e[None]) for e in examples])
