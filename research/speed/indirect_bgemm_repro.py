"""Minimal reproduction: LCE 0.16's indirect BGEMM kernel is exact on an interpreter's first call only.

    python -m research.speed.indirect_bgemm_repro [--model MODEL.tflite ...] [--json out.json]

Each case is a tiny Keras model with one or more binary larq `QuantConv2D` layers (random weights,
batch 1), converted with LCE. For each, one interpreter per setting is called on the input sequence
A, A, B, A, and every call's output is compared with LCE's default kernels on the same input (those
are exact: the parity gate checks them against Keras):

    conv_main            3x3 binary conv, 32 -> 32 channels, in the main graph (no loop)
    conv_1ch_main        5x3 binary conv on a 1-channel input (the BCRNN's first layer), main graph
    proj_main            1x1 binary conv over a sequence (the LSTM input projection), main graph
    binary_before_loop   1x1 binary conv in the main graph, followed by a float WHILE loop
    binary_in_loop       1x1 binary conv on h inside the WHILE body (the recurrent projection)
    binary_in_loop_unrolled   the same loop unrolled (`keras.backend.rnn(unroll=True)`: no WHILE)
    bcrnn_lstm           ser_bnn's BinaryLSTM (16 units, 12 steps), loop as exported
    bcrnn_lstm_unrolled  the same layer traced with `unroll=True`

Settings: `indirect` (use_indirect_bgemm), `indirect+xnnpack`, `indirect, 2 threads`, and
`indirect, fresh interpreter per call` (a new interpreter runs the ops' prepare step and the
kernel's one-time set-up again: the "re-allocate tensors before each call" hypothesis; LCE's Python
interpreter has no allocate_tensors, so this is the closest one can get from Python).

Cause (LCE source, larq_compute_engine/tflite/kernels/bconv2d.cc, `EvalOptIndirectBGEMM`): the
indirection buffer (pointers into the bit-packed input tensor, one per output pixel and filter tap)
is filled only when `op_data->indirect_bgemm_kernel` is still null, i.e. on the op's first Eval;
`Prepare` resets `one_time_setup_complete` but never the kernel, so the buffer is never refilled.
Any later call in which the op's input tensor lives at another address reads stale memory. The
reproduction shows which graphs move that address between calls.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from research.speed.speedkit import convert_untraced, load_note, machine_load, unrolled_rnn

CALLS = ("A", "A", "B", "A")
EXACT = 1e-5  # float32 rounding of the float ops around the binary ones; real errors are >1e-2


def _qconv(filters: int, kernel: tuple[int, int]) -> Any:
    import larq as lq

    return lq.layers.QuantConv2D(
        filters,
        kernel,
        padding="same" if kernel != (1, 1) else "valid",
        pad_values=1.0,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        use_bias=False,
    )


def build_case(name: str, seed: int = 0) -> tuple[Any, bool]:
    """(Keras model at batch 1, whether to trace it with unrolled loops)."""
    import tensorflow as tf
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    unroll = name.endswith("_unrolled")
    base = name.removesuffix("_unrolled")

    class Loop(keras.layers.Layer):
        """h_t = tanh(x_t + P(h_{t-1})): P a binary 1x1 conv (`binary_in_loop`) or a float matmul."""

        def __init__(self, units: int, binary: bool, **kw: Any) -> None:
            super().__init__(**kw)
            self.units, self.binary = units, binary
            self.proj = _qconv(units, (1, 1)) if binary else keras.layers.Dense(units, use_bias=False)

        def build(self, shape: Any) -> None:
            self.proj.build([1, 1, 1, self.units] if self.binary else [1, self.units])
            super().build(shape)

        @tf.autograph.experimental.do_not_convert
        def call(self, x: Any, training: bool | None = None) -> Any:
            def step(x_t: Any, states: list[Any]) -> tuple[Any, list[Any]]:
                h = states[0]
                rec = self.proj(h[:, None, None, :])[:, 0, 0, :] if self.binary else self.proj(h)
                h = tf.tanh(x_t + rec)
                return h, [h]

            zeros = tf.zeros([1, self.units])
            last, _, _ = keras.backend.rnn(step, x, [zeros], return_all_outputs=False)
            return last

    if base == "conv_main":
        inp = keras.Input((16, 16, 32), batch_size=1)
        out = _qconv(32, (3, 3))(inp)
    elif base == "conv_1ch_main":
        inp = keras.Input((30, 40, 1), batch_size=1)
        out = _qconv(16, (5, 3))(inp)
    elif base == "proj_main":
        inp = keras.Input((12, 64), batch_size=1)
        out = keras.layers.Reshape((12, 1, 64))(inp)
        out = keras.layers.Reshape((12, 32))(_qconv(32, (1, 1))(out))
    elif base == "binary_before_loop":
        inp = keras.Input((12, 64), batch_size=1)
        out = keras.layers.Reshape((12, 1, 64))(inp)
        out = keras.layers.Reshape((12, 32))(_qconv(32, (1, 1))(out))
        out = Loop(32, binary=False)(out)
    elif base == "binary_in_loop":
        inp = keras.Input((12, 32), batch_size=1)
        out = Loop(32, binary=True)(inp)
    elif base == "bcrnn_lstm":
        from ser_bnn.nn.lstm import BinaryLSTM

        inp = keras.Input((12, 64), batch_size=1)
        out = BinaryLSTM(16, readout="last")(inp)
    else:
        raise ValueError(f"unknown case {name!r}")
    return keras.Model(inp, out, name=name), unroll


CASES = (
    "conv_main",
    "conv_1ch_main",
    "proj_main",
    "binary_before_loop",
    "binary_in_loop",
    "binary_in_loop_unrolled",
    "bcrnn_lstm",
    "bcrnn_lstm_unrolled",
)


def convert_case(name: str) -> bytes:
    from ser_bnn.export.conversion import convert

    model, unroll = build_case(name)
    if not unroll:
        return convert(model)
    with unrolled_rnn():
        return convert_untraced(model)


def _inputs(shapes: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


SETTINGS: dict[str, dict[str, Any]] = {
    "indirect": {"use_indirect_bgemm": True},
    "indirect+xnnpack": {"use_indirect_bgemm": True, "use_xnnpack": True},
    "indirect, 2 threads": {"use_indirect_bgemm": True, "num_threads": 2},
    "indirect, fresh interpreter per call": {"use_indirect_bgemm": True, "fresh": True},
}


def check_flatbuffer(fb: bytes, settings: dict[str, dict[str, Any]] = SETTINGS) -> dict[str, Any]:
    """{setting: [max |y - y_default| of each call in CALLS]} plus the op counts."""
    from ser_bnn.runtime.flatbuffer import inspect_tflite
    from ser_bnn.runtime.interpreter import LceInterpreter

    ref = LceInterpreter(fb)
    xs = {"A": _inputs(ref.input_shapes, 1), "B": _inputs(ref.input_shapes, 2)}
    want = {k: ref.invoke(v) for k, v in xs.items()}
    info = inspect_tflite(fb)
    result: dict[str, Any] = {
        "bconv_main": info["subgraphs"][0]["ops"].get("LceBconv2d", 0),
        "bconv_in_loops": sum(sg["ops"].get("LceBconv2d", 0) for sg in info["subgraphs"][1:]),
        "while_ops": info["ops"].get("WHILE", 0),
        "settings": {},
    }
    for name, opts in settings.items():
        opts = dict(opts)
        fresh = opts.pop("fresh", False)
        interp = None
        diffs = []
        for c in CALLS:
            if interp is None or fresh:
                interp = LceInterpreter(fb, **opts)
            got = interp.invoke(xs[c])
            diffs.append(max(float(np.abs(g - w).max()) for g, w in zip(got, want[c], strict=True)))
        result["settings"][name] = diffs
    return result


def verdict(diffs: list[float]) -> str:
    bad = [i + 1 for i, d in enumerate(diffs) if d > EXACT]
    if not bad:
        return "exact on every call"
    if bad[0] == 1:
        return "wrong from the first call"
    return f"exact on call 1, wrong on call(s) {', '.join(map(str, bad))}"


def run(
    cases: tuple[str, ...] = CASES, models: tuple[Path, ...] = (), log: Callable[[str], None] = print
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "calls": list(CALLS),
        "exact_threshold": EXACT,
        "load": machine_load(),
        "cases": {},
    }
    for name in cases:
        log(f"{name}: converting")
        out["cases"][name] = check_flatbuffer(convert_case(name))
    for path in models:
        log(f"{path}: checking")
        out["cases"][str(path)] = check_flatbuffer(path.read_bytes())
    return out


def format_result(res: dict[str, Any]) -> str:
    calls = " ".join(res["calls"])
    lines = [f"max |y_indirect - y_default| per call ({calls}); exact = <= {res['exact_threshold']:g}"]
    for case, r in res["cases"].items():
        lines.append(
            f"\n{case}: LceBconv2d {r['bconv_main']} in the main graph, {r['bconv_in_loops']} in "
            f"loop bodies, {r['while_ops']} WHILE"
        )
        for setting, diffs in r["settings"].items():
            d = "  ".join(f"{x:8.1e}" for x in diffs)
            lines.append(f"  {setting:<38} {d}   {verdict(diffs)}")
    lines.append(f"\n{load_note(res['load'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    p.add_argument("--model", type=Path, action="append", default=[], help="also check this .tflite")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    res = run(tuple(args.cases), tuple(args.model))
    print(format_result(res))
    if args.json:
        from ser_bnn.atomic import atomic_write_text
        atomic_write_text(args.json, json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "indirect_bgemm_repro.py"))
