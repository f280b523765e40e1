"""Export a trained run as a bit-packed, waveform-in .tflite, with an op check and a parity gate.

`export_run` rebuilds the run's network at batch size 1 (LCE needs a fixed batch for the
LSTM loops), puts the log-Mel front end in front of it (waveform [1, 48000] in [-1, 1] ->
probabilities [1, n_classes]; or `input_kind='logmel'`: [1, 300, 40] features in), converts it
with `larq_compute_engine.convert_keras_model` and embeds a JSON description (labels, front
end, shapes) as flatbuffer metadata. Before anything is written:

1. op check: every binary layer of the Keras model (a larq `QuantConv2D` with a kernel
   quantizer: the conv, the input and recurrent projections of both LSTM directions, the FC)
   must be an `LceBconv2d` with an int32 (bit-packed) filter, their numbers must match, and
   no float CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / BATCH_MATMUL may carry a constant
   weight of a binary layer's shape (a binary layer the converter left in float);
2. parity gate: the flatbuffer (LCE's interpreter, with the default kernels that the Android
   runtime uses, and with XNNPACK as `ser-bnn predict --fast` does) and the Keras model are run
   on every 3 s window of the run's held-out test utterances and on edge inputs (digital silence,
   full-scale noise, a sine, a short tone then zero padding). Top-1 must agree on every window
   and max |p_tflite - p_keras| must stay <= `tolerance` (see `DEFAULT_TOLERANCE`).

Only then are MODEL.tflite, MODEL.json (sidecar), MODEL.labels.txt and MODEL.report.json
written, each atomically. A failed export leaves nothing new at the target.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn import __version__
from ser_bnn.config import Config, FeatureConfig
from ser_bnn.errors import ExportError, SerBnnError
from ser_bnn.interpreter import LceInterpreter, read_model
from ser_bnn.io import atomic_write_bytes, atomic_write_text

METADATA_NAME = "ser_bnn"
SIDECAR_FORMAT = "ser-bnn-tflite/1"
INPUT_KINDS = ("waveform", "logmel")
WEIGHT_FILES = ("best.weights.h5", "best_weights.h5")

# Largest |p_tflite - p_keras| accepted on any window (probabilities in [0, 1]). Measured on a
# paper-size BCRNN (Emo-DB, 231 held-out utterances = 315 windows + 4 edge inputs):
# - rounding noise: the binary parts are exact (sums of +-1 in float32, scales applied after);
#   the float front end, LSTM gates and softmax differ by rounding: max |dp| 3.6e-7 to 7.2e-7;
#   the trained float CRNN twin, whose float products sum 2560 terms, reaches 1.2e-4;
# - the front end's features differ by <= 1e-3 (mean 3.7e-7); a binarized feature flips sign
#   only if it lies that close to 0: 0 flips among 2.6 M non-zero features; flipping one
#   near-zero feature on purpose moves the output by 1.5e-6 (median) to 3.3e-4 (max, 60 trials);
# - real defects are far larger: LCE's indirect BGEMM kernel inside the LSTM loops gives
#   1.3e-2 to 7.9e-2 (and wrong top-1), a perturbed or corrupted classifier > 5e-3.
# 1e-3 passes rounding noise (float models too) and the odd sign flip, and refuses every defect
# above; top-1 must agree on every window regardless.
DEFAULT_TOLERANCE = 1e-3

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Run:
    """A finished training run, loaded for export."""

    run_dir: Path
    cfg: Config
    model: Any  # tf_keras.Model at batch size 1, trained weights
    split: dict
    weights_source: str


def load_run(run_dir: str | Path) -> Run:
    """Read config.json, split.json and the trained weights; rebuild the network at batch size 1."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise SerBnnError(f"run directory not found: {run_dir}")
    if not (run_dir / "config.json").is_file():
        if any(run_dir.glob("*/config.json")):
            raise SerBnnError(
                f"{run_dir} holds several folds; export one fold directory, e.g. "
                f"{next(run_dir.glob('*/config.json')).parent}"
            )
        raise SerBnnError(f"{run_dir} is not a run directory (no config.json)")
    state_path = run_dir / "state.json"
    try:
        state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        raise SerBnnError(f"{state_path} is unreadable") from None
    if state.get("status") != "complete":
        raise SerBnnError(
            f"{run_dir} is not a finished run (state: {state.get('status', 'missing')}); "
            "finish it with `ser-bnn train --resume --out DIR`"
        )
    cfg = Config.load(run_dir / "config.json")
    if len(cfg.labels) != cfg.model.n_classes:
        raise SerBnnError(
            f"{run_dir}/config.json: {len(cfg.labels)} labels but n_classes={cfg.model.n_classes}"
        )
    try:
        split = json.loads((run_dir / "split.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise SerBnnError(f"{run_dir}/split.json is missing or unreadable") from None

    from ser_bnn.models import build_model, load_model, rebuild_for_export

    model = build_model(cfg, batch_size=1)
    weights = next((run_dir / w for w in WEIGHT_FILES if (run_dir / w).is_file()), None)
    if weights is not None:
        try:
            model.load_weights(str(weights))
        except (ValueError, OSError) as e:
            raise SerBnnError(f"cannot load {weights}: {str(e).splitlines()[0] if str(e) else e}") from None
        source = weights.name
    elif (run_dir / "model").is_dir():
        model = rebuild_for_export(load_model(run_dir / "model"), cfg, batch_size=1)
        source = "model/"
    else:
        raise SerBnnError(f"{run_dir} has neither best.weights.h5 nor a SavedModel in model/")
    return Run(run_dir=run_dir, cfg=cfg, model=model, split=split, weights_source=source)


def ensure_savedmodel(run: Run) -> bool:
    """Write RUN_DIR/model (SavedModel, batch size None) if the run has none. Returns True if written."""
    target = run.run_dir / "model"
    if target.exists():
        return False
    from ser_bnn.models import build_model

    model = build_model(run.cfg)
    model.set_weights(run.model.get_weights())
    from ser_bnn.train import save_savedmodel

    save_savedmodel(model, target)
    return True


def wrap_model(model: Any, features: FeatureConfig, input_kind: str = "waveform") -> Any:
    """The deployable Keras model at batch 1: waveform (or log-Mel) in, class probabilities out."""
    import tf_keras as keras

    from ser_bnn.frontend import make_frontend_layer

    if input_kind not in INPUT_KINDS:
        raise SerBnnError(f"input must be one of {', '.join(INPUT_KINDS)}, got {input_kind!r}")
    if input_kind == "waveform":
        inp = keras.Input(shape=(features.segment_samples,), batch_size=1, name="waveform")
        x = make_frontend_layer(features, name="logmel_frontend")(inp)
    else:
        inp = keras.Input(shape=(features.segment_frames, features.n_mels), batch_size=1, name="logmel")
        x = inp
    out = model(x)
    return keras.Model(inp, out, name=f"{model.name}_{input_kind}")


def convert(keras_model: Any) -> bytes:
    """LCE conversion (target arm: bit-packed LceBconv2d for every recognised binary convolution)."""
    import os
    import sys

    from larq_compute_engine import convert_keras_model

    # The MLIR converter prints pages of C++ warnings on fd 2; keep them out of the CLI output.
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            sys.stderr.flush()
            os.dup2(null.fileno(), 2)
            try:
                return bytes(convert_keras_model(keras_model))
            finally:
                os.dup2(saved, 2)
    except Exception as e:  # converter errors are long MLIR dumps: keep the first line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"LCE conversion failed: {first}") from None
    finally:
        os.close(saved)


# --- op check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinaryLayer:
    name: str
    kernel_shape: tuple[int, ...]  # Keras (kh, kw, cin, cout)


def binary_layers(keras_model: Any) -> list[BinaryLayer]:
    """Every larq QuantConv2D with a kernel quantizer inside `keras_model` (nested layers included)."""
    import larq as lq

    out, seen = [], set()
    for layer in keras_model.submodules:
        binary = isinstance(layer, lq.layers.QuantConv2D) and layer.kernel_quantizer is not None
        if not binary or id(layer) in seen:
            continue
        seen.add(id(layer))
        shape = tuple(int(d) for d in layer.kernel.shape)
        out.append(BinaryLayer(layer.kernel.name.rsplit(":", 1)[0], shape))
    return out


def _dims(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(d for d in shape if d != 1))


def check_binary_ops(flatbuffer: bytes, expected: list[BinaryLayer]) -> dict[str, Any]:
    """Raise ExportError unless every binary layer became a bit-packed LceBconv2d."""
    info = read_model(flatbuffer, "converted model")
    bconvs = [w for op, w in info.op_weights if op == "LceBconv2d"]
    unpacked = [w for w in bconvs if not any(pos == 1 and dtype == "int32" for pos, _, dtype in w)]
    if unpacked:
        raise ExportError(f"{len(unpacked)} LceBconv2d op(s) have no bit-packed (int32) filter")
    for op, weights in info.op_weights:
        if op not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL"):
            continue
        for _, shape, dtype in weights:
            for layer in expected:
                if dtype == "float32" and _dims(shape) == _dims(layer.kernel_shape):
                    raise ExportError(
                        f"binary layer {layer.name} {layer.kernel_shape} was converted to a float {op}, "
                        "not a bit-packed LceBconv2d"
                    )
    if len(bconvs) != len(expected):
        raise ExportError(
            f"the model has {len(expected)} binary layers but the flatbuffer has {len(bconvs)} "
            "LceBconv2d ops: a binary layer was not bit-packed"
        )
    return {
        "binary_layers": len(expected),
        "lce_bconv2d": len(bconvs),
        "layers": [{"name": b.name, "kernel_shape": list(b.kernel_shape)} for b in expected],
    }


# --- metadata ---------------------------------------------------------------------------------


def embed_metadata(flatbuffer: bytes, name: str, payload: bytes) -> bytes:
    """Add (or replace) a named entry of the flatbuffer's metadata (a new buffer holds `payload`)."""
    import flatbuffers

    from ser_bnn.flatbuffer import _schema

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    model.metadata = [m for m in (model.metadata or []) if _str(m.name) != name]
    buf = schema.BufferT()
    buf.data = np.frombuffer(payload, dtype=np.uint8)
    model.buffers.append(buf)
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(flatbuffer) + len(payload) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v or "")


def describe(cfg: Config, input_kind: str, info_in: Any, info_out: Any) -> dict[str, Any]:
    """The model description shared by the embedded metadata and the sidecar."""
    fc = cfg.features
    return {
        "format": SIDECAR_FORMAT,
        "ser_bnn_version": __version__,
        "model_name": cfg.model.name,
        "binary": cfg.model.binary,
        "labels": list(cfg.labels),
        "input": {
            "name": info_in.name,
            "shape": list(info_in.shape),
            "dtype": info_in.dtype,
            "kind": input_kind,
            "description": "mono 16 kHz waveform, float32 in [-1, 1]"
            if input_kind == "waveform"
            else "standardized log-Mel features [frames, mels] of one window (ser_bnn.frontend)",
        },
        "output": {
            "name": info_out.name,
            "shape": list(info_out.shape),
            "dtype": info_out.dtype,
            "kind": "softmax probabilities, in the order of labels",
        },
        "features": dataclasses.asdict(fc),
        "sample_rate": fc.sample_rate,
        "window_samples": fc.segment_samples,
        "hop_samples": fc.segment_hop_samples,
        "pooling": "max",
    }


# --- parity -----------------------------------------------------------------------------------


def edge_inputs(fc: FeatureConfig) -> dict[str, np.ndarray]:
    """Windows that are not speech: digital silence, full-scale noise, a sine, a tone then zeros."""
    n, sr = fc.segment_samples, fc.sample_rate
    t = np.arange(n) / sr
    rng = np.random.default_rng(1234)
    short = np.zeros(n, np.float32)
    short[: sr // 2] = 0.3 * np.sin(2 * np.pi * 220.0 * t[: sr // 2])
    return {
        "silence": np.zeros(n, np.float32),
        "noise_full_scale": rng.uniform(-1.0, 1.0, n).astype(np.float32),
        "sine_440hz": (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32),
        "tone_0.5s_then_zeros": short,
    }


def heldout_windows(
    run: Run, data_dir: str | Path | None, max_utterances: int | None = None, log: Log = _quiet
) -> tuple[np.ndarray, list[str]]:
    """All 3 s windows of the run's test utterances (split.json) from the corpus on disk."""
    from ser_bnn.audio import load_audio
    from ser_bnn.corpora import load_corpus
    from ser_bnn.segments import segment_waveform

    ids = list(run.split.get("test", []))
    if not ids:
        raise SerBnnError(f"{run.run_dir}/split.json lists no test utterances")
    if max_utterances:
        ids = ids[:max_utterances]
    opts = {"classes": len(run.cfg.labels)} if run.cfg.dataset == "iemocap" else {}
    corpus = load_corpus(run.cfg.dataset, data_dir, **opts)
    by_id = {u.id: u for u in corpus.utterances}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SerBnnError(
            f"{len(missing)} test utterances of the run are not in the corpus at {corpus.root} "
            f"(e.g. {missing[0]}): pass --data-dir"
        )
    windows, owners = [], []
    for uid in ids:
        w = segment_waveform(load_audio(by_id[uid].path, run.cfg.features.sample_rate), run.cfg.features)
        windows.append(w)
        owners += [uid] * len(w)
    log(f"parity data: {len(windows)} held-out utterances, {len(owners)} windows")
    return np.concatenate(windows), owners


def keras_predict(keras_model: Any, x: np.ndarray) -> np.ndarray:
    """Keras outputs of a batch-1 model, one example at a time."""
    import tensorflow as tf

    fn = tf.function(lambda t: keras_model(t, training=False))
    return np.concatenate([fn(tf.constant(e[None])).numpy() for e in x]).astype(np.float64)


INTERPRETER_SETTINGS: dict[str, dict[str, Any]] = {
    "lce_default": {},
    "lce_xnnpack": {"use_xnnpack": True},
}


def parity(
    flatbuffer: bytes, keras_model: Any, inputs: dict[str, np.ndarray], tolerance: float, log: Log = _quiet
) -> dict[str, Any]:
    """Compare flatbuffer and Keras outputs per input group; raise ExportError if the gate fails."""
    names = list(inputs)
    x = np.concatenate([inputs[k] for k in names])
    group = np.concatenate([[i] * len(inputs[k]) for i, k in enumerate(names)]).astype(int)
    t0 = time.perf_counter()
    ref = keras_predict(keras_model, x)
    log(f"parity: Keras on {len(x)} windows in {time.perf_counter() - t0:.1f} s")
    report: dict[str, Any] = {
        "tolerance": tolerance,
        "windows": int(len(x)),
        "windows_per_group": {k: int(len(inputs[k])) for k in names},
        "settings": {},
    }
    failures = []
    for setting, opts in INTERPRETER_SETTINGS.items():
        t0 = time.perf_counter()
        got = LceInterpreter(flatbuffer, **opts).predict(x).astype(np.float64)
        diff = np.abs(got - ref).max(axis=1)
        agree = got.argmax(axis=1) == ref.argmax(axis=1)
        r = {
            "top1_agreement": float(agree.mean()),
            "top1_disagreements": int((~agree).sum()),
            "max_abs_diff": float(diff.max()),
            "mean_abs_diff": float(np.abs(got - ref).mean()),
            "p99_abs_diff": float(np.quantile(diff, 0.99)),
            "exact_windows": int((diff == 0).sum()),
            "per_group": {
                k: {
                    "max_abs_diff": float(diff[group == i].max()),
                    "top1_agreement": float(agree[group == i].mean()),
                }
                for i, k in enumerate(names)
            },
            "seconds": round(time.perf_counter() - t0, 2),
        }
        report["settings"][setting] = r
        log(
            f"parity {setting}: top-1 {100 * r['top1_agreement']:.2f} %, max |dp| {r['max_abs_diff']:.2e} "
            f"({r['seconds']:.1f} s)"
        )
        if r["top1_disagreements"] or r["max_abs_diff"] > tolerance:
            worst = names[int(group[int(diff.argmax())])]
            failures.append(
                f"{setting}: top-1 agreement {100 * r['top1_agreement']:.2f} %, "
                f"max |dp| {r['max_abs_diff']:.3g} > {tolerance:g} (worst on {worst})"
                if r["max_abs_diff"] > tolerance
                else f"{setting}: top-1 agreement {100 * r['top1_agreement']:.2f} % "
                f"({r['top1_disagreements']} windows differ)"
            )
    report["passed"] = not failures
    if failures:
        raise ExportError("parity gate failed, nothing written: " + "; ".join(failures))
    return report


# --- report -----------------------------------------------------------------------------------


def float_twin_flatbuffer(cfg: Config, input_kind: str) -> bytes:
    """The float CRNN built from the same config (binary off), untrained, converted the same way."""
    from ser_bnn.config import ModelConfig  # noqa: F401  (dataclasses.replace keeps the type)
    from ser_bnn.models import build_model

    twin_cfg = cfg.replace(model=dataclasses.replace(cfg.model, name="crnn", binary=False))
    twin = build_model(twin_cfg, batch_size=1)
    return convert(wrap_model(twin, cfg.features, input_kind))


def _size_report(flatbuffer: bytes) -> dict[str, Any]:
    from ser_bnn.flatbuffer import inspect_tflite

    r = inspect_tflite(flatbuffer)
    wb = r["weight_bytes"]
    return {
        "size_bytes": r["size_bytes"],
        "ops": dict(sorted(r["ops"].items())),
        "weight_bytes": wb,
        "bitpacked_weight_bytes": r["bconv_filter_bytes"],
        "float_weight_bytes": int(wb.get("float32", 0)),
        "other_weight_bytes": int(sum(wb.values()) - wb.get("float32", 0) - r["bconv_filter_bytes"]),
    }


def format_report(report: dict[str, Any]) -> str:
    """The table printed by `ser-bnn export`."""
    m = report["model"]
    rows = [
        ("file", report["path"]),
        ("model / input", f"{report['model_name']} / {report['input_kind']} {report['input_shape']}"),
        ("file size", f"{m['size_bytes']:,} B ({m['size_bytes'] / 2**20:.3f} MiB)"),
        ("bit-packed weights", f"{m['bitpacked_weight_bytes']:,} B"),
        ("float32 weights", f"{m['float_weight_bytes']:,} B"),
        ("other constants", f"{m['other_weight_bytes']:,} B"),
        (
            "LceBconv2d / binary layers",
            f"{report['op_check']['lce_bconv2d']} / {report['op_check']['binary_layers']}",
        ),
    ]
    s = report.get("summary")
    if s:
        rows.append(
            (
                "binarized share of MACs",
                f"{100 * s['binary_mac_share']:.3f} % "
                f"({s['binary_macs']:,} of {s['macs']:,}, front end not counted)",
            )
        )
    t = report.get("float_twin")
    if t:
        rows.append(
            ("float CRNN twin size", f"{t['size_bytes']:,} B (untrained, same converter and front end)")
        )
        rows.append(
            (
                "compression vs twin",
                f"{t['compression_ratio']:.1f}x file, {t['weight_compression_ratio']:.1f}x weights",
            )
        )
    p = report["parity"]
    for name, r in p["settings"].items():
        rows.append(
            (
                f"parity {name}",
                f"top-1 {100 * r['top1_agreement']:.1f} %, max |dp| {r['max_abs_diff']:.2e}, "
                f"exact {r['exact_windows']}/{p['windows']} windows",
            )
        )
    rows.append(
        (
            "parity tolerance",
            f"{p['tolerance']:g} on {p['windows']} windows "
            f"({', '.join(f'{k} {v}' for k, v in p['windows_per_group'].items())})",
        )
    )
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    ops = ", ".join(f"{k} {v}" for k, v in sorted(m["ops"].items(), key=lambda kv: (-kv[1], kv[0])))
    lines.append(f"{'ops':<{width}}  {ops}")
    return "\n".join(lines)


# --- the export -------------------------------------------------------------------------------


def default_output(run: Run, input_kind: str) -> Path:
    suffix = "" if input_kind == "waveform" else "-logmel"
    return run.run_dir / "export" / f"{run.cfg.model.name}{suffix}.tflite"


def sidecar_paths(model_path: Path) -> dict[str, Path]:
    base = model_path.with_suffix("")
    return {
        "sidecar": base.with_name(base.name + ".json"),
        "labels": base.with_name(base.name + ".labels.txt"),
        "report": base.with_name(base.name + ".report.json"),
        "twin": base.with_name(base.name + ".float-twin.tflite"),
    }


def export_run(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    input_kind: str = "waveform",
    data_dir: str | Path | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_utterances: int | None = None,
    float_twin: bool = True,
    save_twin: bool = False,
    log: Log = _quiet,
) -> dict[str, Any]:
    """Convert, check and write a run's model; returns the export report (also MODEL.report.json)."""
    if input_kind not in INPUT_KINDS:
        raise SerBnnError(f"input must be one of {', '.join(INPUT_KINDS)}, got {input_kind!r}")
    if not tolerance >= 0:
        raise SerBnnError(f"tolerance must be >= 0, got {tolerance}")
    t_start = time.perf_counter()
    run = load_run(run_dir)
    target = Path(out) if out else default_output(run, input_kind)
    if target.suffix != ".tflite":
        raise SerBnnError(f"output must end in .tflite, got {target}")
    if target.is_dir():
        raise SerBnnError(f"output {target} is a directory")
    log(f"run {run.run_dir}: {run.cfg.model.name}, weights {run.weights_source}")
    wrote_savedmodel = ensure_savedmodel(run)
    if wrote_savedmodel:
        log(f"wrote SavedModel {run.run_dir / 'model'}")

    # Parity inputs first: a missing corpus should fail before minutes of conversion.
    real, _ = heldout_windows(run, data_dir, max_utterances, log)
    windows = {"heldout_test": real, **{k: v[None] for k, v in edge_inputs(run.cfg.features).items()}}

    keras_model = wrap_model(run.model, run.cfg.features, input_kind)
    if input_kind == "logmel":
        from ser_bnn.frontend import make_frontend_layer

        frontend = make_frontend_layer(run.cfg.features)
        windows = {k: np.asarray(frontend(v)) for k, v in windows.items()}
    t0 = time.perf_counter()
    flatbuffer = convert(keras_model)
    log(f"converted with LCE in {time.perf_counter() - t0:.1f} s: {len(flatbuffer):,} bytes")
    info = read_model(flatbuffer, "converted model")
    desc = describe(run.cfg, input_kind, info.inputs[0], info.outputs[0])
    flatbuffer = embed_metadata(flatbuffer, METADATA_NAME, json.dumps(desc, separators=(",", ":")).encode())
    return finish_export(
        flatbuffer,
        keras_model,
        run,
        target,
        windows,
        desc,
        tolerance=tolerance,
        float_twin=float_twin,
        save_twin=save_twin,
        log=log,
        extra={"wrote_savedmodel": wrote_savedmodel, "t_start": t_start},
    )


def finish_export(
    flatbuffer: bytes,
    keras_model: Any,
    run: Run,
    target: Path,
    windows: dict[str, np.ndarray],
    desc: dict[str, Any],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    float_twin: bool = True,
    save_twin: bool = False,
    log: Log = _quiet,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Op check and parity gate on the final bytes, then the atomic writes."""
    extra = dict(extra or {})
    op_check = check_binary_ops(flatbuffer, binary_layers(keras_model))
    log(f"op check: {op_check['lce_bconv2d']} LceBconv2d for {op_check['binary_layers']} binary layers")
    par = parity(flatbuffer, keras_model, windows, tolerance, log)

    from ser_bnn.summary import model_summary

    model_size = _size_report(flatbuffer)
    summ = model_summary(run.model, run.cfg)
    summ.pop("per_layer", None)
    report: dict[str, Any] = {
        "path": str(target),
        "model_name": run.cfg.model.name,
        "input_kind": desc["input"]["kind"],
        "input_shape": desc["input"]["shape"],
        "output_shape": desc["output"]["shape"],
        "labels": desc["labels"],
        "run_dir": str(run.run_dir),
        "weights": run.weights_source,
        "model": model_size,
        "op_check": op_check,
        "summary": summ,
        "parity": par,
        "ser_bnn_version": __version__,
    }
    twin_bytes = None
    if float_twin and run.cfg.model.binary:
        t0 = time.perf_counter()
        twin_bytes = float_twin_flatbuffer(run.cfg, desc["input"]["kind"])
        t = _size_report(twin_bytes)
        report["float_twin"] = {
            **t,
            "note": "float CRNN built from the same config with binary=False, untrained (weights do not "
            "change the size), converted with the same LCE converter and the same front end",
            "compression_ratio": t["size_bytes"] / model_size["size_bytes"],
            "weight_compression_ratio": sum(t["weight_bytes"].values())
            / sum(model_size["weight_bytes"].values()),
        }
        log(f"float twin converted in {time.perf_counter() - t0:.1f} s: {t['size_bytes']:,} bytes")

    paths = sidecar_paths(target)
    sidecar = {
        **desc,
        "model": target.name,
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
        "size_bytes": len(flatbuffer),
        "run": {
            "dir": str(run.run_dir),
            "dataset": run.cfg.dataset,
            "split": run.split.get("split"),
            "fold": run.split.get("fold"),
            "test_speakers": run.split.get("test_speakers"),
        },
        "config": run.cfg.to_dict(),
    }
    report["files"] = {"model": str(target), **{k: str(v) for k, v in paths.items() if k != "twin"}}
    if twin_bytes is not None and save_twin:
        report["files"]["float_twin"] = str(paths["twin"])
    if "t_start" in extra:
        report["seconds"] = round(time.perf_counter() - extra.pop("t_start"), 1)
    report.update(extra)
    # The sidecar names the model's SHA-256, so a crash between these writes leaves a pair that
    # predict refuses (mismatch) rather than one that silently disagrees.
    atomic_write_text(paths["labels"], "\n".join(desc["labels"]) + "\n")
    atomic_write_text(paths["sidecar"], json.dumps(sidecar, indent=2) + "\n")
    atomic_write_bytes(target, flatbuffer)
    if twin_bytes is not None and save_twin:
        atomic_write_bytes(paths["twin"], twin_bytes)
    atomic_write_text(paths["report"], json.dumps(report, indent=2, default=_json_default) + "\n")
    return report


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
