"""Sign flips at the inputs of binary layers: find them, and show they are the whole difference.

A binary layer sees only sign(x). The flatbuffer computes the float parts (front end, BatchNorm as
MUL + ADD, PReLU, LSTM gates) with other kernels than TensorFlow, so its float tensors differ from
Keras by rounding (measured <= 1.5e-5 on a trained BCRNN). Where a binary layer's input lies that
close to 0, its sign can differ: one flipped bit among 384 000 at the LSTM input changes every gate
pre-activation of that step by 2 * alpha * beta, and the network output by up to about 1e-2. That is
rounding, not a defect - and indistinguishable from one by max |dp| alone.

`FlipProbe` tells them apart for one window:

1. the *probe flatbuffer*: the exported flatbuffer with the input tensor of every `LceQuantize` op
   of the main graph (the float input of a binary layer, just before binarization) appended to its
   outputs; nothing else changes (same ops, same weights, same kernels);
2. the Keras reference's tensors at the same places (the functional inputs of the binary
   `BinaryConv2D`, `BinaryLSTM`, `BinaryDense` layers, matched to the LceQuantize inputs by size);
3. at the first such input where the signs differ: the two tensors must agree to `INPUT_ATOL`
   everywhere (so each flipped value is within rounding of 0: |x| <= |x_tfl - x_keras|); then the
   Keras network is re-run from that layer on, fed with the flatbuffer's tensor (same signs);
   repeated at the next binary input if a further flip occurs downstream;
4. the re-anchored Keras output must agree with the flatbuffer's to the gate's tolerance.

Binary inputs inside the LSTM loops (the recurrent projections) are not observable this way: a
window whose only flips are there stays unexplained, and the gate fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Largest |x_tfl - x_keras| at a binary layer's input where a sign flip is accepted as rounding.
# Measured on a trained Emo-DB BCRNN (638 window x statistics pairs): <= 1.5e-5 at the conv input
# (standardized log-Mel, |x| up to ~10), <= 7.5e-6 at the LSTM input; a wrong front end, wrong
# statistics or a wrong kernel differ by orders of magnitude more.
INPUT_ATOL = 1e-4
# Largest share of a setting's windows (over all statistics) that may pass as rounding-flip windows.
# Measured: 1 of 638 (0.16 %). Many flips mean the inputs are not close, whatever each one shows.
MAX_FLIP_WINDOW_FRACTION = 0.01


def flip_window_budget(n_windows: int) -> int:
    """How many of `n_windows` (window x statistics pairs of one interpreter setting) may pass the parity
    gate as rounding-flip windows: `MAX_FLIP_WINDOW_FRACTION` of them, at least one."""
    return max(1, int(MAX_FLIP_WINDOW_FRACTION * n_windows))


def signs(x: np.ndarray) -> np.ndarray:
    """+1 / -1 as larq's ste_sign and LCE's LceQuantize binarize: sign(0) = +1."""
    return np.where(np.asarray(x) >= 0, 1, -1).astype(np.int8)


@dataclass
class Anchor:
    """A binary layer's input, in Keras (a functional tensor of the inner network) and in the flatbuffer."""

    layer: str
    keras_tensor: Any
    tensor_index: int  # index in the main subgraph of the flatbuffer
    size: int


def _inner_network(keras_model: Any) -> Any:
    import tf_keras as keras

    nested = [layer for layer in keras_model.layers if isinstance(layer, keras.Model)]
    if len(nested) != 1:
        raise ValueError(f"expected one nested network in {keras_model.name}, found {len(nested)}")
    return nested[0]


def lce_quantize_inputs(flatbuffer: bytes) -> list[tuple[int, tuple[int, ...]]]:
    """(tensor index, shape) of the input of every LceQuantize op of the main subgraph, in op order."""
    from ser_bnn.flatbuffer import schema

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

    from ser_bnn.flatbuffer import schema

    model = schema().ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    sg = model.subgraphs[0]
    sg.outputs = [int(i) for i in sg.outputs] + [int(t) for t in tensors]
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class FlipProbe:
    """Explains windows whose flatbuffer / Keras difference exceeds the tolerance (module docstring)."""

    def __init__(self, flatbuffer: bytes, keras_model: Any, roles: Any) -> None:
        import tensorflow as tf
        import tf_keras as keras

        from ser_bnn.layers import BinaryConv2D, BinaryDense
        from ser_bnn.lstm import BinaryLSTM

        self.roles = roles
        inner = _inner_network(keras_model)
        self.inner = inner
        candidates: list[tuple[str, Any]] = []
        for layer in inner.layers:
            if isinstance(layer, BinaryConv2D | BinaryDense | BinaryLSTM) and layer.binary:
                t = layer.input[0] if isinstance(layer.input, list) else layer.input
                if not any(t is c for _, c in candidates):
                    candidates.append((layer.name, t))
        quant = lce_quantize_inputs(flatbuffer)
        self.anchors: list[Anchor] = []
        self.unobserved: list[str] = []
        for name, t in candidates:
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
            "input_atol": INPUT_ATOL,
        }

    def _interp(self, setting: str, opts: dict[str, Any]) -> Any:
        from ser_bnn.interpreter import LceInterpreter

        if setting not in self._interpreters:
            self._interpreters[setting] = LceInterpreter(self.probe, **opts)
        return self._interpreters[setting]

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
        "reason", "max_abs_diff_flip_corrected", "layers": [per re-anchoring step]}."""
        import tensorflow as tf

        interp = self._interp(setting, opts)
        inputs: list[np.ndarray | None] = [None] * len(interp.input_shapes)
        inputs[self.roles.signal] = np.asarray(window, np.float32)[None]
        if self.roles.speaker_stats is not None:
            shape = interp.input_shapes[self.roles.speaker_stats]
            st = np.zeros(shape, np.float32) if stats is None else stats
            inputs[self.roles.speaker_stats] = np.asarray(st, np.float32).reshape(shape)
        outs = interp.invoke(inputs)
        probe_probs = outs[self.roles.probabilities][0]
        got = [o.reshape(-1) for o in outs[self.n_outputs :]]
        keras_in = [tf.constant(inputs[self.roles.signal])]
        if self.roles.speaker_stats is not None:
            keras_in.append(tf.constant(inputs[self.roles.speaker_stats]))
        feats = self._features(keras_in if len(keras_in) > 1 else keras_in[0])
        ref = [np.asarray(t).reshape(-1) for t in self._anchored(feats)]
        current = {k: ref[k] for k in range(len(self.anchors))}
        current_probs = ref[-1].reshape(-1)
        steps = []
        result: dict[str, Any] = {
            "explained": False,
            "probe_matches_model": bool(np.array_equal(probe_probs, probabilities)),
            "max_abs_diff": float(np.abs(probabilities - current_probs).max()),
            "layers": steps,
        }
        if not result["probe_matches_model"]:
            result["reason"] = "the probe flatbuffer's output differs from the model's"
            return result
        k = 0
        while k < len(self.anchors):
            flipped = signs(got[k]) != signs(current[k])
            if not flipped.any():
                k += 1
                continue
            diff = float(np.abs(got[k] - current[k]).max())
            steps.append(
                {
                    "layer": self.anchors[k].layer,
                    "flipped": int(flipped.sum()),
                    "signs": self.anchors[k].size,
                    "max_abs_flipped_value": float(np.abs(current[k][flipped]).max()),
                    "input_max_abs_diff": diff,
                }
            )
            if diff > INPUT_ATOL:
                layer = self.anchors[k].layer
                result["reason"] = f"the input of {layer} differs by {diff:.3g} > {INPUT_ATOL:g}"
                return result
            mode, fn = self._from[k]
            anchor = tf.constant(got[k].reshape([int(d) for d in self.anchors[k].keras_tensor.shape]))
            outs_k = fn([feats, anchor]) if mode == "both" else fn(anchor)
            outs_k = outs_k if isinstance(outs_k, list | tuple) else [outs_k]
            rest = [np.asarray(t).reshape(-1) for t in outs_k]
            current = {j: rest[j - k - 1] for j in range(k + 1, len(self.anchors))}
            current_probs = rest[-1]
            k += 1
        same = float(np.abs(probabilities - current_probs).max())
        result["max_abs_diff_flip_corrected"] = same
        if not steps:
            result["reason"] = "no sign differs at an observable binary input"
        elif same > tolerance:
            result["reason"] = f"with the same signs the outputs still differ by {same:.3g}"
        elif int(np.argmax(probabilities)) != int(np.argmax(current_probs)):
            result["reason"] = "top-1 differs with the same signs"
        else:
            result["explained"] = True
        return result
