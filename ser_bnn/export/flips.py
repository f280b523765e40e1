"""Sign flips at the inputs of binary layers: find them, judge each by its evidence, re-anchor.

A binary layer sees only sign(x). The flatbuffer computes the float parts (front end, BatchNorm as
MUL + ADD, PReLU, LSTM gates) with other kernels than TensorFlow, so its float tensors differ from
Keras by rounding. Where a binary layer's input lies that close to 0, its sign can differ: one
flipped bit among 384 000 at the LSTM input changes every gate pre-activation of that step by
2 * alpha * beta, and the network output by up to about 1e-2. That is rounding, not a defect - and
indistinguishable from one by max |dp| alone. How many windows show such a flip says nothing
either: it follows the density of values near 0 (measured in `ROUNDING_ULPS`), not the conversion.

The rounding bound. A float32 operation returns its exact result times (1 + d), |d| <= u = 2^-24
(the unit roundoff); a sum of n terms, in any order, is within (n - 1) u sum|terms| of the exact sum
(Higham, Accuracy and Stability of Numerical Algorithms, 2002, eq. 4.4). Keras and the flatbuffer
evaluate the same formulas in other orders and with other kernels, so each is within such a bound of
the exact value and the two within twice it. Before the LSTM input the chain is the front end and
the first block: a 512-point real FFT (9 butterfly stages), the power spectrum, mel sums of at most
257 non-negative terms (relative error <= 256 u, which the log turns into an absolute error of the
same size), standardization, the first conv (15 products), BatchNorm as a multiply and an add, PReLU
(sign-preserving): about 300 roundings, each of magnitudes bounded by the scale of the tensor. Taking
s = max |x| of the Keras tensor in that window as that scale, the two sides differ by at most
2 x 300 u s. (After the LSTM the gates are contractive, so the 150 steps do not add up: measured
<= 9.3 u s at the FC input of windows without a flip.) The gate allows

    bound = ROUNDING_ULPS * u * s,  ROUNDING_ULPS = 1024  (6.1e-5 s)

Measured on the 1-epoch default Emo-DB BCRNN (630 window x statistics pairs, LSTM input s = 1.1 to
3.5): |x_tfl - x_keras| <= 41 u s (median 12.5 u s); a wrong front end, statistics or kernel is
orders of magnitude beyond (a shift of 1e-2 at s = 2.4 is 70 000 u s).

`FlipProbe` judges one window:

1. the *probe flatbuffer*: the exported flatbuffer with the input tensor of every `LceQuantize` op
   of the main graph (the float input of a binary layer, just before binarization) appended to its
   outputs; nothing else changes (same ops, same weights, same kernels);
2. the Keras reference's tensors at the same places (the functional inputs of the binary
   `BinaryConv2D`, `BinaryLSTM`, `BinaryDense` layers, matched to the LceQuantize inputs by size;
   one tensor can feed several layers, e.g. both LSTM directions read the same sequence);
3. at each such input, in graph order, where signs differ (`judge_flips`): every flipped value is
   within the rounding bound of 0 (|x_keras| <= bound) and the whole tensor agrees to the bound (so
   nothing upstream is hidden by what follows); then the Keras network is re-run from that layer
   on, fed with the flatbuffer's tensor (same signs), and the next input is compared with that;
4. the re-anchored Keras output must agree with the flatbuffer's to the gate's tolerance and on top-1.
Any number of windows may pass this way; one flip beyond the bound, or a re-anchored output that
still differs, fails the gate.

Binary inputs inside the LSTM loops (the recurrent projections) are not observable this way: a
window whose only flips are there stays unexplained, and the gate fails it if it is over the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# float32 unit roundoff u (half the spacing of float32 numbers in [1, 2)).
UNIT_ROUNDOFF = 2.0**-24
# The rounding bound at a binary layer's input, in units of u * max|x| of that tensor (module docstring:
# about 2 x 300 roundings before the LSTM input, rounded up to a power of two; measured <= 41).
ROUNDING_ULPS = 1024


def rounding_bound(scale: float) -> float:
    """Largest |x_tfl - x_keras| (and largest flipped |x|) that float32 rounding explains in a tensor
    whose largest |x| is `scale`: `ROUNDING_ULPS` * u * scale (module docstring)."""
    return ROUNDING_ULPS * UNIT_ROUNDOFF * float(scale)


def signs(x: np.ndarray) -> np.ndarray:
    """+1 / -1 as larq's ste_sign and LCE's LceQuantize binarize: sign(0) = +1."""
    return np.where(np.asarray(x) >= 0, 1, -1).astype(np.int8)


def judge_flips(reference: np.ndarray, got: np.ndarray, layer: str) -> dict[str, Any] | None:
    """Compare one binary layer's input, Keras (`reference`) against the flatbuffer (`got`).

    None when no sign differs. Otherwise {"layer", "flipped", "signs", "scale", "bound",
    "max_abs_flipped_value", "input_max_abs_diff", "rounding", ["reason"]}: `rounding` is True when
    every flipped |x| (Keras value) and the whole tensor's difference are within `rounding_bound`.
    """
    ref = np.asarray(reference, np.float64).reshape(-1)
    out = np.asarray(got, np.float64).reshape(-1)
    if ref.shape != out.shape:
        raise ValueError(f"{layer}: tensors of {ref.size} and {out.size} values")
    flipped = signs(ref) != signs(out)
    if not flipped.any():
        return None
    scale = float(np.abs(ref).max())
    bound = rounding_bound(scale)
    step: dict[str, Any] = {
        "layer": layer,
        "flipped": int(flipped.sum()),
        "signs": int(ref.size),
        "scale": scale,
        "bound": bound,
        "max_abs_flipped_value": float(np.abs(ref[flipped]).max()),
        "input_max_abs_diff": float(np.abs(out - ref).max()),
    }
    if step["max_abs_flipped_value"] > bound:
        step["reason"] = (
            f"a sign of {layer} flips at |x| = {step['max_abs_flipped_value']:.3g} > the rounding bound "
            f"{bound:.3g} ({ROUNDING_ULPS} u x scale {scale:.3g})"
        )
    elif step["input_max_abs_diff"] > bound:
        step["reason"] = (
            f"the input of {layer} differs by {step['input_max_abs_diff']:.3g} > the rounding bound "
            f"{bound:.3g} ({ROUNDING_ULPS} u x scale {scale:.3g})"
        )
    step["rounding"] = "reason" not in step
    return step


@dataclass
class Anchor:
    """A binary layer's input, in Keras (a functional tensor of the inner network) and in the flatbuffer."""

    layer: str  # the binary layers reading the tensor, e.g. "blstm_fw+blstm_bw"
    keras_tensor: Any
    tensor_index: int  # index in the main subgraph of the flatbuffer
    size: int


def _inner_network(keras_model: Any) -> Any:
    import tf_keras as keras

    nested = [layer for layer in keras_model.layers if isinstance(layer, keras.Model)]
    if len(nested) != 1:
        raise ValueError(f"expected one nested network in {keras_model.name}, found {len(nested)}")
    return nested[0]


def binary_inputs(inner: Any) -> tuple[list[tuple[str, Any]], list[str]]:
    """([(names of the binary layers reading it, tensor)] of every binary layer's input in layer order,
    [binary layers with a learned threshold]): such a layer binarizes x - b, so its LceQuantize input
    is not its Keras input, and it is left unobserved."""
    from ser_bnn.nn.layers import BinaryConv2D, BinaryDense
    from ser_bnn.nn.lstm import BinaryLSTM

    found: list[tuple[list[str], Any]] = []
    shifted: list[str] = []
    for layer in inner.layers:
        if not (isinstance(layer, BinaryConv2D | BinaryDense | BinaryLSTM) and layer.binary):
            continue
        if getattr(layer, "threshold", False):
            shifted.append(f"{layer.name} (learned threshold)")
            continue
        t = layer.input[0] if isinstance(layer.input, list) else layer.input
        same = [names for names, c in found if c is t]
        if same:
            same[0].append(layer.name)
        else:
            found.append(([layer.name], t))
    return [("+".join(names), t) for names, t in found], shifted


def lce_quantize_inputs(flatbuffer: bytes) -> list[tuple[int, tuple[int, ...]]]:
    """(tensor index, shape) of the input of every LceQuantize op of the main subgraph, in op order."""
    from ser_bnn.runtime.flatbuffer import schema

    model = schema().ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    codes = [
        c.customCode.decode() if isinstance(c.customCode, bytes) else str(c.customCode or "")
        for c in model.operatorCodes
    ]
    sg = model.subgraphs[0]
    out, seen = [], set()
    for op in sg.operators:
        if codes[op.opcodeIndex] == "LceQuantize" and op.inputs[0] not in seen:
            seen.add(op.inputs[0])
            out.append((int(op.inputs[0]), tuple(int(d) for d in sg.tensors[op.inputs[0]].shape)))
    return out


def probe_flatbuffer(flatbuffer: bytes, tensors: list[int]) -> bytes:
    """The flatbuffer with `tensors` (main subgraph) appended to the main subgraph's outputs."""
    import flatbuffers

    from ser_bnn.runtime.flatbuffer import schema

    model = schema().ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    sg = model.subgraphs[0]
    sg.outputs = [int(i) for i in sg.outputs] + [int(t) for t in tensors]
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class FlipProbe:
    """Explains windows whose flatbuffer / Keras outputs differ (module docstring)."""

    def __init__(self, flatbuffer: bytes, keras_model: Any, roles: Any) -> None:
        import tensorflow as tf
        import tf_keras as keras

        self.roles = roles
        inner = _inner_network(keras_model)
        self.inner = inner
        quant = lce_quantize_inputs(flatbuffer)
        self.anchors: list[Anchor] = []
        inputs, self.unobserved = binary_inputs(inner)
        for name, t in inputs:
            size = int(np.prod([int(d) for d in t.shape]))
            hits = [i for i, shape in quant if int(np.prod(shape)) == size]
            if len(hits) == 1:
                self.anchors.append(Anchor(name, t, hits[0], size))
            else:
                self.unobserved.append(name)
        self.n_outputs = len(roles.describe()["outputs"])
        self.probe = probe_flatbuffer(flatbuffer, [a.tensor_index for a in self.anchors])
        # Keras: the network input (standardized features) of the deployed model, then the inner
        # network with its binary inputs as extra outputs, and one re-anchored network per anchor.
        feed = inner.inbound_nodes[-1].input_tensors
        self._features = tf.function(keras.Model(keras_model.inputs, feed))
        tapped = [a.keras_tensor for a in self.anchors] + [inner.output]
        self._anchored = tf.function(keras.Model(inner.inputs, tapped))
        self._from: list[Any] = []
        for k, a in enumerate(self.anchors):
            outs = [b.keras_tensor for b in self.anchors[k + 1 :]] + [inner.output]
            try:
                sub = keras.Model([inner.input, a.keras_tensor], outs)
                self._from.append(("both", tf.function(sub)))
            except ValueError:  # the rest of the network does not need the network input
                self._from.append(("anchor", tf.function(keras.Model(a.keras_tensor, outs))))
        self._interpreters: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        return {
            "observed_binary_inputs": [{"layer": a.layer, "size": a.size} for a in self.anchors],
            "unobserved_binary_inputs": self.unobserved + ["recurrent projections (inside the LSTM loops)"],
            "rounding_ulps": ROUNDING_ULPS,
            "unit_roundoff": UNIT_ROUNDOFF,
        }

    def _interp(self, setting: str, opts: dict[str, Any]) -> Any:
        from ser_bnn.runtime.interpreter import LceInterpreter

        if setting not in self._interpreters:
            self._interpreters[setting] = LceInterpreter(self.probe, **opts)
        return self._interpreters[setting]

    def tensors(
        self, setting: str, opts: dict[str, Any], window: np.ndarray, stats: np.ndarray | None
    ) -> tuple[np.ndarray, list[np.ndarray], Any, list[np.ndarray]]:
        """One window through both sides: (probe flatbuffer's probabilities, its binary-input tensors,
        the Keras network input, the Keras binary-input tensors followed by the Keras probabilities)."""
        import tensorflow as tf

        interp = self._interp(setting, opts)
        inputs: list[np.ndarray | None] = [None] * len(interp.input_shapes)
        inputs[self.roles.signal] = np.asarray(window, np.float32)[None]
        if self.roles.speaker_stats is not None:
            shape = interp.input_shapes[self.roles.speaker_stats]
            st = np.zeros(shape, np.float32) if stats is None else stats
            inputs[self.roles.speaker_stats] = np.asarray(st, np.float32).reshape(shape)
        outs = interp.invoke(inputs)
        got = [o.reshape(-1) for o in outs[self.n_outputs :]]
        keras_in = [tf.constant(inputs[self.roles.signal])]
        if self.roles.speaker_stats is not None:
            keras_in.append(tf.constant(inputs[self.roles.speaker_stats]))
        feats = self._features(keras_in if len(keras_in) > 1 else keras_in[0])
        ref = [np.asarray(t).reshape(-1) for t in self._anchored(feats)]
        return outs[self.roles.probabilities][0], got, feats, ref

    def _reanchor(self, k: int, feats: Any, tensor: np.ndarray) -> list[np.ndarray]:
        """The Keras network from binary input k on, fed `tensor`: later binary inputs, then the output."""
        import tensorflow as tf

        mode, fn = self._from[k]
        anchor = tf.constant(tensor.reshape([int(d) for d in self.anchors[k].keras_tensor.shape]))
        outs = fn([feats, anchor]) if mode == "both" else fn(anchor)
        outs = outs if isinstance(outs, list | tuple) else [outs]
        return [np.asarray(t).reshape(-1) for t in outs]

    def explain(
        self,
        setting: str,
        opts: dict[str, Any],
        window: np.ndarray,
        stats: np.ndarray | None,
        probabilities: np.ndarray,
        tolerance: float,
    ) -> dict[str, Any]:
        """Attribute one window's difference to sign flips (see the module docstring).

        `probabilities`: the exported flatbuffer's output for this window. Returns {"explained": bool,
        "reason", "max_abs_diff_flip_corrected", "layers": [`judge_flips` of each re-anchoring step]}."""
        probe_probs, got, feats, ref = self.tensors(setting, opts, window, stats)
        current, current_probs = ref[:-1], ref[-1]
        steps: list[dict[str, Any]] = []
        result: dict[str, Any] = {
            "explained": False,
            "probe_matches_model": bool(np.array_equal(probe_probs, probabilities)),
            "layers": steps,
        }
        if not result["probe_matches_model"]:
            result["reason"] = "the probe flatbuffer's output differs from the model's"
            return result
        for k, anchor in enumerate(self.anchors):
            # `current` holds the Keras tensors of the binary inputs after the last re-anchoring
            step = judge_flips(current[k - len(self.anchors)], got[k], anchor.layer)
            if step is None:
                continue
            steps.append(step)
            if not step["rounding"]:
                result["reason"] = step["reason"]
                return result
            rest = self._reanchor(k, feats, got[k])
            current, current_probs = rest[:-1], rest[-1]
        same = float(np.abs(probabilities - current_probs).max())
        result["max_abs_diff_flip_corrected"] = same
        if not steps:
            result["reason"] = "no sign differs at an observable binary input"
        elif same > tolerance:
            result["reason"] = f"with the same signs the outputs still differ by {same:.3g} > {tolerance:g}"
        elif int(np.argmax(probabilities)) != int(np.argmax(current_probs)):
            result["reason"] = "top-1 differs with the same signs"
        else:
            result["explained"] = True
        return result


class FlipJudge:
    """The parity gate's judge: the `FlipProbe` of a binary model, built on first use (tracing the Keras
    sub-networks takes seconds, and most exports never need it)."""

    def __init__(self, flatbuffer: bytes, keras_model: Any, roles: Any, rule: dict[str, Any]) -> None:
        self.args = (flatbuffer, keras_model, roles)
        self.rule = rule  # the report's rule, completed with `FlipProbe.describe` once built
        self._probe: FlipProbe | None = None
        self.built = False

    def probe(self) -> FlipProbe | None:
        """The probe (None for a model without binary layers)."""
        if not self.built:
            from ser_bnn.export.opcheck import binary_layers

            flatbuffer, keras_model, roles = self.args
            self._probe = FlipProbe(flatbuffer, keras_model, roles) if binary_layers(keras_model) else None
            self.built = True
            if self._probe is not None:
                self.rule.update(self._probe.describe())
        return self._probe

    def judge(self, setting: str, opts: dict, windows: np.ndarray, stats: Any, tolerance: float) -> Callable:
        """explain(i, probabilities): `FlipProbe.explain` of window i of `windows` with that interpreter
        setting and statistics ({"explained": False, ...} for a float model)."""

        def explain(i: int, probabilities: np.ndarray) -> dict[str, Any]:
            probe = self.probe()
            if probe is None:
                return {"explained": False, "reason": "not a binary model", "layers": []}
            return probe.explain(setting, opts, windows[i], stats, probabilities, tolerance)

        return explain
