"""A COST MODEL (not a measurement) of one 3 s window on an arm64 phone core: BCRNN variants vs float twin.

    python -m research.speed.arm64_cost_model [--ghz 2.0] [--ipc 2] [--op-overhead-us 1.0] [--json J]

No arm64 figure can be measured on the development machine (SPEED.md, "arm64"), so this script
counts work instead, from the model configuration alone (no TensorFlow). The shapes are those of
the shipped default preset (`ser_bnn.recipes.default_config`: 128 conv filters, 256 binary LSTM
units per direction, 64 FC units); the float twin has the same shapes, as `ser-bnn export`'s twin:

- binary products (LceBconv2d): LCE bit-packs the channels of each filter tap into 32-bit words,
  so one output value of a conv with C input channels and a kh x kw kernel reduces
  kh * kw * ceil(C / 32) * 32 bits; one popcount instruction covers a 64-bit word (XOR, popcount and
  accumulate are counted as `BINARY_INSTR_PER_WORD` instructions per word);
- float products: 4-wide NEON FMA, one instruction per 4 multiply-adds;
- element-wise float work (front end, BatchNorm, PReLU, pooling, XNOR K, LSTM gates, bit-packing):
  4 lanes per instruction;
- interpreter dispatch: `--op-overhead-us` per operator executed (a WHILE body's ops count once per
  step; the counts are those of the converted graphs, see latency_profile.py; they do not depend
  on the layer widths).

Instructions / (ipc * GHz) gives milliseconds. Everything here is an assumption with a flag: the
figures rank the variants and give an order of magnitude, they are not latencies. The
ratio BCRNN / twin is the most robust number (same assumptions on both sides).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any

BITS_PER_PACKED_WORD = 32  # LCE's TBitpacked is int32: channels are packed 32 to a word
BITS_PER_POPCOUNT = 64  # one popcount instruction covers a 64-bit word
BINARY_INSTR_PER_WORD = 1.5  # EOR, CNT, UADALP on a 128-bit register = two 64-bit words
FLOAT_LANES = 4  # 128-bit NEON, float32
# Operators executed per window in the converted graphs (latency_profile.py, full waveform model,
# WHILE bodies counted 150 times); the unrolled graphs have no WHILE and the step ops once each.
OPS_EXECUTED = {"bcrnn": 10624, "crnn": 7309}


@dataclass(frozen=True)
class Shape:
    """The network's sizes (`from_config`; the defaults are the shipped default preset's BCRNN)."""

    frames: int = 300
    mels: int = 40
    filters: int = 128
    kernel: tuple[int, int] = (5, 3)
    pool: tuple[int, int] = (2, 2)
    units: int = 256
    fc: int = 64
    classes: int = 7
    n_fft: int = 512
    input_levels: int = 1  # input channels of the first conv

    @classmethod
    def from_config(cls, cfg: Any) -> Shape:
        """The sizes of a `ser_bnn.config.Config`."""
        m, f = cfg.model, cfg.features
        return cls(
            frames=f.segment_frames,
            mels=f.n_mels,
            filters=m.conv_filters,
            kernel=tuple(m.conv_kernel),
            pool=tuple(m.pool_size),
            units=m.lstm_units,
            fc=m.fc_units,
            classes=m.n_classes,
            n_fft=f.n_fft,
        )


def shipped_shape() -> Shape:
    """The shipped default preset's BCRNN."""
    from ser_bnn.recipes import default_config

    return Shape.from_config(default_config("bcrnn"))


@dataclass
class Part:
    name: str
    binary_macs: int = 0
    binary_bits: int = 0  # bits reduced by popcount, after packing channels to 32-bit words
    float_macs: int = 0
    elementwise: int = 0  # float element-wise operations
    extra: dict[str, Any] = field(default_factory=dict)

    def instructions(self) -> float:
        return (
            BINARY_INSTR_PER_WORD * self.binary_bits / BITS_PER_POPCOUNT
            + self.float_macs / FLOAT_LANES
            + self.elementwise / FLOAT_LANES
        )


def packed_bits(taps: int, channels: int) -> int:
    """Bits one output value reduces: every tap's channels padded to whole 32-bit words."""
    return taps * math.ceil(channels / BITS_PER_PACKED_WORD) * BITS_PER_PACKED_WORD


def parts(s: Shape, binary_conv: bool, binary_rest: bool) -> list[Part]:
    kh, kw = s.kernel
    conv_out = s.frames * s.mels * s.filters
    steps, bins = s.frames // s.pool[0], s.mels // s.pool[1]
    seq_dim = bins * s.filters
    pooled = steps * bins * s.filters
    gates = 4 * s.units
    n_bins = s.n_fft // 2 + 1
    frontend = Part(
        "front end (FFT, Mel, log, standardize)",
        elementwise=s.frames
        * (5 * s.n_fft * int(math.log2(s.n_fft)) // 2 + 4 * n_bins + 2 * n_bins + 6 * s.mels),
    )
    cin = s.input_levels if binary_conv else 1
    conv_macs = conv_out * kh * kw * cin
    conv = Part("first conv", extra={"binary": binary_conv})
    if binary_conv:
        conv.binary_macs = conv_macs
        conv.binary_bits = s.frames * s.mels * s.filters * packed_bits(kh * kw, cin)
        # input bit-packing, XNOR K (mean |x| box filter) and the multiplication by K
        conv.elementwise = s.frames * s.mels * (cin + 1 + kh * kw) + conv_out
    else:
        conv.float_macs = conv_macs
    block = Part("max-pool, BatchNorm, PReLU", elementwise=conv_out + 3 * pooled)
    proj = Part("LSTM input projections (2 directions)")
    rec = Part("LSTM recurrent projections (2 directions)")
    proj_macs = 2 * steps * seq_dim * gates
    rec_macs = 2 * steps * s.units * gates
    if binary_rest:
        proj.binary_macs, proj.binary_bits = proj_macs, 2 * steps * gates * packed_bits(1, seq_dim)
        proj.elementwise = 2 * steps * seq_dim * 2  # bit-packing and mean |x_t|
        rec.binary_macs, rec.binary_bits = rec_macs, 2 * steps * gates * packed_bits(1, s.units)
    else:
        proj.float_macs, rec.float_macs = proj_macs, rec_macs
    # per step: scales and bias (3 per gate unit), 3 sigmoid + 2 tanh (~10 each), 4 mul/add per unit,
    # read-out sums; binary: bit-packing of h and mean |h|
    cell = Part(
        "LSTM cell element-wise (2 x 150 steps)",
        elementwise=2
        * steps
        * (3 * gates + 5 * 10 * s.units + 6 * s.units + (2 * s.units if binary_rest else 0)),
    )
    head_in = 2 * s.units
    head = Part("FC + classifier")
    if binary_rest:
        head.binary_macs, head.binary_bits = head_in * s.fc, s.fc * packed_bits(1, head_in)
    else:
        head.float_macs = head_in * s.fc
    head.float_macs += s.fc * s.classes
    head.elementwise = 4 * s.fc + 3 * s.classes
    return [frontend, conv, block, proj, rec, cell, head]


# name: (binary first conv, binary LSTM and FC, op counts); all at the shipped shapes
VARIANTS = {
    "BCRNN shipped (float conv)": (False, True, "bcrnn"),
    "BCRNN binary conv (paper)": (True, True, "bcrnn"),
    "float twin": (False, False, "crnn"),
}


def estimate(
    ghz: float = 2.0, ipc: float = 2.0, op_overhead_us: float = 1.0, shape: Shape | None = None
) -> dict[str, Any]:
    """{variant: {parts: [...], instructions, compute_ms, dispatch_ms, total_ms}} and ratios to the twin,
    at `shape` (default: `shipped_shape()`)."""
    shape = shipped_shape() if shape is None else shape
    out: dict[str, Any] = {
        "shape": dataclasses.asdict(shape),
        "assumptions": {
            "ghz": ghz,
            "ipc": ipc,
            "op_overhead_us": op_overhead_us,
            "bits_per_packed_word": BITS_PER_PACKED_WORD,
            "bits_per_popcount": BITS_PER_POPCOUNT,
            "binary_instr_per_word": BINARY_INSTR_PER_WORD,
            "float_lanes": FLOAT_LANES,
            "ops_executed": OPS_EXECUTED,
        },
        "variants": {},
    }
    for name, (bconv, brest, kind) in VARIANTS.items():
        ps = parts(shape, bconv, brest)
        instr = sum(p.instructions() for p in ps)
        compute_ms = instr / (ipc * ghz * 1e9) * 1e3
        dispatch_ms = OPS_EXECUTED[kind] * op_overhead_us * 1e-3
        out["variants"][name] = {
            "parts": [
                {
                    "name": p.name,
                    "binary_macs": p.binary_macs,
                    "float_macs": p.float_macs,
                    "elementwise": p.elementwise,
                    "minstr": p.instructions() / 1e6,
                }
                for p in ps
            ],
            "binary_macs": sum(p.binary_macs for p in ps),
            "float_macs": sum(p.float_macs for p in ps),
            "minstr": instr / 1e6,
            "compute_ms": compute_ms,
            "dispatch_ms": dispatch_ms,
            "total_ms": compute_ms + dispatch_ms,
        }
    twin = out["variants"]["float twin"]
    for v in out["variants"].values():
        v["ratio_compute"] = v["compute_ms"] / twin["compute_ms"]
        v["ratio_total"] = v["total_ms"] / twin["total_ms"]
    return out


def format_estimate(res: dict[str, Any]) -> str:
    a = res["assumptions"]
    lines = [
        "COST MODEL, NOT A MEASUREMENT: one 3 s window on one arm64 core",
        "shapes: " + ", ".join(f"{k} {v}" for k, v in res["shape"].items()),
        f"assumptions: {a['ghz']} GHz, {a['ipc']} NEON instructions/cycle, {a['op_overhead_us']} us dispatch "
        f"per operator executed; binary: channels packed {a['bits_per_packed_word']} to a word, "
        f"{a['binary_instr_per_word']} instructions per {a['bits_per_popcount']}-bit popcount word; float: "
        f"{a['float_lanes']}-wide FMA",
        "",
    ]
    names = list(res["variants"])
    first = res["variants"][names[0]]["parts"]
    head = f"{'part (M instructions)':<44}" + "".join(f"{n[:26]:>28}" for n in names)
    lines.append(head)
    for i, p in enumerate(first):
        lines.append(
            f"{p['name']:<44}" + "".join(f"{res['variants'][n]['parts'][i]['minstr']:>28.2f}" for n in names)
        )
    rows = [
        ("binary MACs (M)", "binary_macs", 1e-6, ".1f"),
        ("float MACs (M)", "float_macs", 1e-6, ".1f"),
        ("total M instructions", "minstr", 1, ".2f"),
        ("compute ms (model)", "compute_ms", 1, ".2f"),
        ("+ dispatch ms (model)", "dispatch_ms", 1, ".2f"),
        ("= total ms (model)", "total_ms", 1, ".2f"),
        ("ratio to twin, compute", "ratio_compute", 1, ".2f"),
        ("ratio to twin, total", "ratio_total", 1, ".2f"),
    ]
    lines.append("")
    for label, key, scale, spec in rows:
        lines.append(
            f"{label:<44}" + "".join(f"{format(res['variants'][n][key] * scale, spec):>28}" for n in names)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ghz", type=float, default=2.0, help="core clock (a Cortex-A76 class big core: ~2-2.8)")
    p.add_argument("--ipc", type=float, default=2.0, help="NEON instructions per cycle (2 pipes on A76)")
    p.add_argument("--op-overhead-us", type=float, default=1.0, help="interpreter cost per operator executed")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    res = estimate(args.ghz, args.ipc, args.op_overhead_us)
    print(format_estimate(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "arm64_cost_model.py"))
