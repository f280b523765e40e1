"""Graph variants of the exported BCRNN: size, UAR, latency (1 and 2 threads) and the parity gate for each.

    python -m research.speed.variants [--variants NAME ...] [--runs 10] [--windows 8] [--json out.json]

Every variant is the deployable waveform-in flatbuffer (front end included, as `ser-bnn export`
writes it), converted with LCE at batch 1, and must pass the export's parity gate
(`ser_bnn.export.parity_gate.parity`: LCE default kernels and XNNPACK against Keras, top-1 on every
window and max |dp| <= 1e-3) on held-out Emo-DB windows of the fixed split's test speakers and
the edge inputs. Latencies are interleaved round-robin over all variants and settings in one run,
so the ratios are comparable even on a loaded machine; the load is printed with them.

Variants (trained run of `benchmarks/ablation.py`, looked up in --runs-dir, default runs/ablation,
or given with --run RUN_NAME=DIR; or untrained: latency and size only):

    bcrnn                 the BCRNN, binary first conv as in the paper (default-e12)
    float-first-conv      the first conv in float (float-first-layer-e12)
    unrolled              bcrnn's weights, LSTM traced with unroll=True: 150 steps, no WHILE
    fused-scales          bcrnn's weights, the per-step scales of the binary LSTM regrouped (below)
    float-first-conv+unrolled   that run with the unrolled LSTM
    float-first-conv+unrolled+fused   float-first-layer-e12 with both graph changes
    float-twin            the float CRNN (crnn-e12)
    float-twin+unrolled   the float CRNN with the unrolled LSTM

Unrolled and fused variants compute the same function as the run they come from (the parity gate
compares them with that run's unchanged Keras model), so they have its UAR.

Fused per-step scales (without touching ser_bnn/nn/lstm.py): the binary LSTM step computes
z = alpha * beta_t * (P_t + R(h)) + b with beta_t = (C mean|x_t| + H mean|h|) / (C + H). With
a = alpha / (C + H) (a constant per gate unit) that is z = (S_t + sum|h|) * (a P_t + a R(h)) + b,
where a P_t and S_t = sum|x_t| are computed for all steps before the loop and the constant
multiplication a R(h) sits right after the recurrent LceBconv2d, where LCE's converter can fold it
into the kernel's output transform. `FusedBinaryLSTM` is that rewrite as a subclass with the same
weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from research.speed.speedkit import (
    DEFAULT_CACHE,
    bconv_weight_sharing,
    cache_key,
    convert_cached,
    fmt_table,
    load_note,
    machine_load,
    op_executions,
    run_fingerprint,
    speech_windows,
    time_interleaved,
)

RUNS = Path("runs/ablation")  # benchmarks/ablation.py's default --runs
# run name (as in VARIANTS) -> run directory, from --run NAME=DIR (e.g. the shipped protocol runs)
RUN_DIRS: dict[str, Path] = {}
SETTINGS = {  # name: (threads, XNNPACK, indirect BGEMM)
    "1t": (1, False, False),
    "1t+xnn": (1, True, False),
    "1t+ind": (1, False, True),
    "1t+xnn+ind": (1, True, True),
    "2t": (2, False, False),
    "2t+xnn": (2, True, False),
    "2t+xnn+ind": (2, True, True),
}
# Interpreter settings of the parity gate: the export's two, and LCE's indirect BGEMM kernels (with and
# without XNNPACK), each gated on its own (the gate calls one interpreter on every window in turn, so a
# kernel that is only right on its first call fails it).
PARITY_SETTINGS = {
    "lce_default": {},
    "lce_xnnpack": {"use_xnnpack": True},
    "lce_indirect": {"use_indirect_bgemm": True},
    "lce_indirect_xnnpack": {"use_indirect_bgemm": True, "use_xnnpack": True},
}
TWIN = "float-twin"


@dataclass(frozen=True)
class Variant:
    name: str
    run: str | None  # run directory under RUNS with the trained weights; None: untrained
    model: dict[str, Any] = field(default_factory=dict)  # ModelConfig overrides (untrained variants)
    unroll: bool = False
    fused: bool = False
    note: str = ""


VARIANTS = (
    Variant("bcrnn", "default-e12", note="paper: binary first conv"),
    Variant("float-first-conv", "float-first-layer-e12"),
    Variant("unrolled", "default-e12", unroll=True),
    Variant("fused-scales", "default-e12", fused=True),
    Variant("float-first-conv+unrolled", "float-first-layer-e12", unroll=True),
    Variant("float-first-conv+unrolled+fused", "float-first-layer-e12", unroll=True, fused=True),
    Variant(TWIN, "crnn-e12"),
    Variant("float-twin+unrolled", "crnn-e12", unroll=True),
)
BY_NAME = {v.name: v for v in VARIANTS}
# The default set (each unrolled graph takes minutes to trace and convert on a loaded 2-core machine).
DEFAULT = (
    "bcrnn",
    "float-first-conv",
    "unrolled",
    "fused-scales",
    "float-first-conv+unrolled",
    TWIN,
    "float-twin+unrolled",
)


def get_fused_lstm_class() -> type:
    """`BinaryLSTM` with the per-step scales regrouped (module docstring); same weights and outputs."""
    import tensorflow as tf
    import tf_keras as keras

    from ser_bnn.nn.lstm import BinaryLSTM, pooled_readout

    class FusedBinaryLSTM(BinaryLSTM):
        def call(self, inputs: Any, training: bool | None = None) -> tf.Tensor:
            if not self.binary:
                return super().call(inputs, training=training)
            valid = None
            if self.readout != "last":
                inputs, valid = inputs
            n, cell = 4 * self.units, self.cell
            a = self.alpha() / float(self.input_dim + self.units)  # [1, 4H]
            proj = tf.squeeze(self.input_proj(tf.expand_dims(inputs, 2)), 2) * a
            parts = [proj, tf.reduce_sum(tf.abs(inputs), axis=-1, keepdims=True)]
            zeros = tf.zeros(tf.stack([tf.shape(inputs)[0], self.units]), dtype=inputs.dtype)
            states = [zeros, zeros]
            if valid is not None:
                parts.append(valid[:, :, None])
                states.append(zeros)
            seq = tf.concat(parts, axis=-1)
            a4 = tf.reshape(a, [1, 1, 1, n])

            def step(x_t: tf.Tensor, states: list[tf.Tensor]) -> tuple[tf.Tensor, list[tf.Tensor]]:
                h, c = states[0], states[1]
                rec = tf.reshape(cell.recurrent_proj(tf.reshape(h, [-1, 1, 1, self.units])) * a4, [-1, n])
                s = x_t[:, n : n + 1] + tf.reduce_sum(tf.abs(h), axis=-1, keepdims=True)
                z = s * (x_t[:, :n] + rec) + cell.bias
                zi, zf, zg, zo = tf.split(z, 4, axis=-1)
                c_new = tf.sigmoid(zf) * c + tf.sigmoid(zi) * tf.tanh(zg)
                h_new = tf.sigmoid(zo) * tf.tanh(c_new)
                new = [h_new, c_new]
                if valid is None:
                    return h_new, new
                v = x_t[:, n + 1 :]
                return h_new, [*new, states[2] + v * h_new]

            last, _, final = keras.backend.rnn(
                step, seq, states, go_backwards=self.go_backwards, return_all_outputs=False
            )
            return pooled_readout(self.readout, last, final, valid)

    return FusedBinaryLSTM


@dataclass
class Loaded:
    variant: Variant
    cfg: Any
    model: Any  # the network at batch 1 (log-Mel in)
    reference: Any  # the unchanged network the parity gate compares with (same weights)
    uar: float | None
    run_dir: Path | None


def run_dir_for(name: str, runs: Path = RUNS) -> Path:
    """The trained run behind run name `name`: a --run NAME=DIR mapping, else runs/NAME."""
    return RUN_DIRS.get(name, runs / name)


def load_variant(v: Variant, runs: Path = RUNS, seed: int = 0) -> Loaded:
    from ser_bnn.config import Config
    from ser_bnn.export.conversion import load_run
    from ser_bnn.nn.models import build_model

    def where(name: str) -> Path:
        return run_dir_for(name, runs)

    if v.run is not None:
        run_dir = where(v.run)
        run = load_run(run_dir)
        cfg, reference = run.cfg, run.model
        metrics = run_dir / "metrics.json"
        uar = json.loads(metrics.read_text())["uar"] if metrics.is_file() else None
    else:
        import tf_keras as keras

        base = Config.load(where(BY_NAME["bcrnn"].run) / "config.json")
        cfg = base.replace(model=dataclasses.replace(base.model, **v.model))
        keras.utils.set_random_seed(seed)
        reference = build_model(cfg, batch_size=1)
        uar, run_dir = None, None
    model = reference
    if v.fused:
        model = build_model(cfg, batch_size=1, lstm_class=get_fused_lstm_class())
        model.set_weights(reference.get_weights())
    return Loaded(v, cfg, model, reference, uar, run_dir)


def convert_variant(ld: Loaded, cache_dir: Path | None, log: Callable[[str], None]) -> bytes:
    from ser_bnn.export.conversion import wrap_model

    v = ld.variant
    fp = run_fingerprint(ld.run_dir) if ld.run_dir else ("untrained", json.dumps(v.model, sort_keys=True))
    key = cache_key("variants-v1", fp, v.unroll, v.fused)

    def build() -> Any:
        return wrap_model(ld.model, ld.cfg.features, "waveform")

    return convert_cached(build, key, cache_dir, log, unroll=v.unroll)


def parity_check(
    fb: bytes,
    ld: Loaded,
    windows: np.ndarray,
    tolerance: float = 1e-3,
    settings: dict[str, dict[str, Any]] = PARITY_SETTINGS,
) -> dict[str, dict[str, Any]]:
    """The export's parity gate against the unchanged Keras network (waveform in), once per interpreter
    setting: {setting: {"passed", "max_abs_diff", "top1_agreement" | "error"}}; never raises."""
    from ser_bnn.errors import ExportError
    from ser_bnn.export.conversion import wrap_model
    from ser_bnn.export.parity_data import edge_inputs
    from ser_bnn.export.parity_gate import keras_outputs, parity

    keras_model = wrap_model(ld.reference, ld.cfg.features, "waveform")
    inputs = {"heldout_test": windows, **{k: x[None] for k, x in edge_inputs(ld.cfg.features).items()}}
    memo: dict[Any, dict[str, np.ndarray]] = {}

    def keras_once(model: Any, x: np.ndarray, stats: np.ndarray | None = None) -> dict[str, np.ndarray]:
        key = (id(model), x.shape, hash(x.tobytes()), None if stats is None else hash(stats.tobytes()))
        if key not in memo:  # the Keras reference is the same for every interpreter setting
            memo[key] = keras_outputs(model, x, stats)
        return memo[key]

    out: dict[str, dict[str, Any]] = {}
    for name, opts in settings.items():  # each setting gated on its own: one failing does not hide others
        try:
            rep = parity(
                fb, keras_model, inputs, tolerance, settings={name: opts}, reference_outputs=keras_once
            )
        except ExportError as e:
            out[name] = {"passed": False, "error": str(e)}
            continue
        r = rep["settings"][name]
        out[name] = {
            "passed": rep["passed"],
            "windows": rep["windows"],
            "max_abs_diff": r["max_abs_diff"],
            "top1_agreement": r["top1_agreement"],
        }
    return out


def measure(
    names: list[str],
    runs: int = 10,
    n_windows: int = 8,
    cache_dir: Path | None = DEFAULT_CACHE,
    settings: dict[str, tuple[int, bool, bool]] = SETTINGS,
    check_parity: bool = True,
    log: Callable[[str], None] = print,
    runs_dir: Path = RUNS,
) -> dict[str, Any]:
    from ser_bnn.runtime.interpreter import LceInterpreter

    windows = speech_windows(n_windows)
    rows: dict[str, dict[str, Any]] = {}
    calls: dict[str, Callable[[], Any]] = {}
    for name in names:
        v = BY_NAME[name]
        log(f"{name}: loading and converting")
        ld = load_variant(v, runs_dir)
        fb = convert_variant(ld, cache_dir, log)
        steps = ld.cfg.features.segment_frames // ld.cfg.model.pool_size[0]
        ops = op_executions(fb, steps)
        row: dict[str, Any] = {
            "variant": name,
            "run": v.run,
            "run_dir": str(ld.run_dir) if ld.run_dir else None,
            "uar": ld.uar,
            "trained": v.run is not None,
            "unroll": v.unroll,
            "fused": v.fused,
            "size_bytes": len(fb),
            "ops_executed": ops["executed_total"],
            "ops_per_step": sum(ops["per_step"].values()),
            "while_loops": ops["while_bodies"],
            **bconv_weight_sharing(fb),
        }
        if check_parity:
            log(f"{name}: parity gate")
            row["parity"] = parity_check(fb, ld, windows)
        rows[name] = row
        for sname, (threads, xnn, ind) in settings.items():
            it = LceInterpreter(fb, num_threads=threads, use_xnnpack=xnn, use_indirect_bgemm=ind)
            xs = [
                windows[0].reshape(s) if s[-1] == windows.shape[-1] else np.zeros(s, np.float32)
                for s in it.input_shapes
            ]
            calls[f"{name}|{sname}"] = lambda it=it, xs=xs: it.invoke(xs)
    load_before = machine_load()
    log(f"timing {len(calls)} interpreters x {runs} runs, round-robin; {load_note(load_before)}")
    timed = time_interleaved(calls, runs=runs, warmup=2)
    for key, t in timed.items():
        name, sname = key.split("|")
        rows[name][f"ms_{sname}"] = t["median_ms"]
    if TWIN in rows:
        for r in rows.values():
            for sname in settings:
                r[f"ratio_{sname}"] = r[f"ms_{sname}"] / rows[TWIN][f"ms_{sname}"]
    return {
        "rows": list(rows.values()),
        "runs": runs,
        "windows": int(len(windows)),
        "load_before": load_before,
        "load_after": machine_load(),
    }


def gate_for(setting: str) -> str:
    """The parity setting that covers a latency setting (thread count does not change correctness)."""
    xnn, ind = "+xnn" in setting, "+ind" in setting
    return {
        (False, False): "lce_default",
        (True, False): "lce_xnnpack",
        (False, True): "lce_indirect",
        (True, True): "lce_indirect_xnnpack",
    }[(xnn, ind)]


def best_correct(row: dict[str, Any], threads: str = "1t") -> tuple[str, float] | None:
    """(setting, ms) of the fastest setting at `threads` whose parity gate passed (None: none did)."""
    opts = [
        (s, row[f"ms_{s}"])
        for s in SETTINGS
        if s.startswith(threads)
        and f"ms_{s}" in row
        and row.get("parity", {}).get(gate_for(s), {}).get("passed")
    ]
    return min(opts, key=lambda t: t[1]) if opts else None


def format_variants(res: dict[str, Any]) -> str:
    rows = []
    twin = next((r for r in res["rows"] if r["variant"] == TWIN), None)
    twin_best = best_correct(twin) if twin else None
    for r in res["rows"]:
        p = r.get("parity") or {}
        flags = "".join(
            "P" if p.get(g, {}).get("passed") else ("F" if g in p else "-") for g in PARITY_SETTINGS
        )
        worst = max((v.get("max_abs_diff", 0.0) for v in p.values() if v.get("passed")), default=None)
        best = best_correct(r)
        row = {
            **r,
            "uar_s": "untrained" if r["uar"] is None else f"{100 * r['uar']:.1f}",
            "parity_s": flags,
            "worst_ok": worst,
            "bconv_s": f"{r['bconv_ops']}/{r['bconv_filter_buffers']}",
            "best_s": f"{best[1]:.1f} {best[0]}" if best else "-",
            "best_ratio": best[1] / twin_best[1] if best and twin_best else None,
        }
        for s in SETTINGS:
            if f"ms_{s}" in r and p and not p.get(gate_for(s), {}).get("passed"):
                row[f"ms_{s}"] = None  # wrong outputs: no latency shown
                row[f"wrong_{s}"] = r[f"ms_{s}"]
        rows.append(row)
    cols = [
        ("variant", "variant", ""),
        ("uar_s", "UAR %", ""),
        ("size_bytes", "bytes", ","),
        ("ops_executed", "ops/window", ","),
        ("bconv_s", "bconv ops/filter bufs", ""),
        ("parity_s", "gate d/x/i/ix", ""),
        ("worst_ok", "max|dp|", ".1e"),
    ]
    cols += [(f"ms_{s}", f"ms {s}", ".1f") for s in SETTINGS if f"ms_{s}" in res["rows"][0]]
    cols += [("best_s", "best 1t correct", ""), ("best_ratio", "/twin best 1t", ".2f")]
    out = [fmt_table(rows, cols)]
    for r in res["rows"]:
        for g, v in (r.get("parity") or {}).items():
            if not v.get("passed") and g in ("lce_default", "lce_xnnpack"):
                out.append(f"{r['variant']} {g}: {v.get('error')}")
    out.append(
        f"\nmedian ms of {res['runs']} interleaved runs, waveform in (front end included); t = threads, "
        "xnn = XNNPACK, ind = indirect BGEMM; '-' = the parity gate failed for that kernel setting "
        "(wrong outputs, not timed as a result)"
    )
    out.append(
        f"gate d/x/i/ix: parity gate (P pass, F fail) with LCE default kernels / XNNPACK / indirect BGEMM "
        f"/ indirect BGEMM + XNNPACK on {res['windows']} held-out windows + 4 edge inputs"
    )
    if twin_best:
        out.append(
            f"/twin best 1t: fastest correct 1-thread setting of the variant / of {TWIN} "
            f"({twin_best[1]:.1f} ms, {twin_best[0]}), same run"
        )
    out.append(f"load: before {res['load_before']['uptime']}\n      after  {res['load_after']['uptime']}")
    out.append(load_note(res["load_after"]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", default=list(DEFAULT), choices=list(BY_NAME))
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--runs-dir", type=Path, default=RUNS, help=f"trained runs by name (default {RUNS})")
    p.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="use DIR for the run NAME of VARIANTS (e.g. float-first-layer-e12=runs/fixed-s0); repeatable",
    )
    p.add_argument("--windows", type=int, default=8, help="held-out speech windows for the parity gate")
    p.add_argument("--no-parity", action="store_true", help="skip the parity gate (not for reported figures)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--convert-only", action="store_true",
                   help="only convert (fill the cache, e.g. from several processes at once) and exit")
    args = p.parse_args(argv)
    for item in args.run:
        name, sep, path = item.partition("=")
        if not sep or name not in {v.run for v in VARIANTS} or not Path(path).is_dir():
            runs = sorted({v.run for v in VARIANTS if v.run})
            p.error(f"--run {item}: need NAME=DIR with NAME one of {', '.join(runs)} and DIR a run directory")
        RUN_DIRS[name] = Path(path)
    wanted = {v.run for v in (BY_NAME[n] for n in args.variants) if v.run}
    dirs = [run_dir_for(name, args.runs_dir) for name in sorted(wanted)]
    missing = [str(d) for d in dirs if not (d / "config.json").is_file()]
    if missing:
        p.error(
            f"no trained run at {', '.join(missing)}: train them with benchmarks/ablation.py "
            "(--runs DIR, then --runs-dir DIR here), or map each run name with --run NAME=DIR"
        )
    if args.convert_only:
        for name in args.variants:
            ld = load_variant(BY_NAME[name], args.runs_dir)
            print(f"{name}: {len(convert_variant(ld, args.cache_dir, print)):,} B")
        return 0
    res = measure(
        args.variants,
        args.runs,
        args.windows,
        args.cache_dir,
        check_parity=not args.no_parity,
        runs_dir=args.runs_dir,
    )
    print(format_variants(res))
    if args.json:
        from ser_bnn.atomic import atomic_write_text
        atomic_write_text(args.json, json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "variants.py"))
