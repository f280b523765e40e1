"""Run a converted .tflite with LCE's interpreter, without importing TensorFlow.

`import larq_compute_engine` imports TensorFlow (its converter): about 3.5 s and 490 MB before
the first prediction. The interpreter itself is one compiled extension module,
`larq_compute_engine/tflite/python/interpreter_wrapper_lite*.so`, which needs neither
TensorFlow nor the package's `__init__`. `load_wrapper` finds the package directory with
`importlib.util.find_spec` (which does not import a top-level package) and loads only that
extension from its file. If the package was already imported (export, tests), the loaded
module is reused. `LceInterpreter` is the small part of LCE's `Interpreter` class we need; it
checks every file with `ser_bnn.runtime.flatbuffer.read_model` (re-exported here) before the C++ code
sees it.

LCE's optimized kernels target arm64 (Android, Raspberry Pi); on x86 the binary convolution
falls back to reference kernels: outputs are the same, latency is not representative.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from ser_bnn.errors import SerBnnError
from ser_bnn.runtime.flatbuffer import ModelInfo, TensorInfo, read_model

__all__ = ["LceInterpreter", "ModelInfo", "TensorInfo", "load_wrapper", "read_model"]

WRAPPER_MODULE = "larq_compute_engine.tflite.python.interpreter_wrapper_lite"


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


class LceInterpreter:
    """One loaded model with float32 inputs and outputs (`run` / `predict`: a single input and
    output; `invoke`: any number, in the flatbuffer's order).

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
        if not self.input_shapes or not self.output_shapes:
            raise SerBnnError(f"{name}: the model has no inputs or no outputs")

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

    def invoke(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """One invocation with every input (exact shapes, in the model's input order): all outputs."""
        if len(inputs) != len(self.input_shapes):
            raise SerBnnError(f"the model has {len(self.input_shapes)} inputs, got {len(inputs)}")
        xs = [np.ascontiguousarray(x, dtype=np.float32) for x in inputs]
        for x, shape in zip(xs, self.input_shapes, strict=True):
            if tuple(x.shape) != shape:
                raise SerBnnError(f"model input must have shape {shape}, got {tuple(x.shape)}")
        return [np.array(o, copy=True) for o in self._interp.predict(xs)]

    def run(self, x: np.ndarray) -> np.ndarray:
        """One invocation of a one-input, one-output model: `x` has exactly the input shape."""
        if len(self.input_shapes) != 1 or len(self.output_shapes) != 1:
            raise SerBnnError(
                f"run() needs one input and one output, the model has {len(self.input_shapes)} and "
                f"{len(self.output_shapes)} (use invoke)"
            )
        return self.invoke([x])[0]

    def predict(self, examples: np.ndarray) -> np.ndarray:
        """Run each example [N, *input_shape[1:]] through a batch-1 model: returns [N, *output_shape[1:]]."""
        examples = np.asarray(examples, dtype=np.float32)
        if self.input_shape[0] != 1:
            raise SerBnnError(f"expected a batch-1 model, input shape is {self.input_shape}")
        if len(examples) == 0:
            return np.zeros((0, *self.output_shape[1:]), np.float32)
        return np.concatenate([self.run(e[None]) for e in examples])
