"""The exported artifact: MODEL.tflite (metadata embedded), MODEL.json, MODEL.labels.txt, MODEL.report.json.

Writing (`ser-bnn export`) and reading (`ser-bnn predict`) share this module, so the layout is
defined once. It imports no TensorFlow: `embed_metadata` needs only the `flatbuffers` package
and TensorFlow's schema file (see `ser_bnn.runtime.flatbuffer.schema`).

- The description (`describe`): labels, input/output tensors, front-end parameters, windowing.
  It is embedded in the flatbuffer as metadata entry `METADATA_NAME` and repeated in the
  sidecar MODEL.json, which adds the model's SHA-256, size, run and full config.
- `read_description`: the sidecar, else the embedded metadata, else MODEL.labels.txt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn import __version__
from ser_bnn.atomic import atomic_write_bytes, atomic_write_text
from ser_bnn.config import Config
from ser_bnn.export.conversion import Run
from ser_bnn.runtime.flatbuffer import inspect_tflite, schema
from ser_bnn.runtime.sidecar import METADATA_NAME, SIDECAR_FORMAT, sidecar_paths

ROLE_DESCRIPTIONS = {
    "waveform": "mono 16 kHz waveform of one window, float32 in [-1, 1]; zero padding must be exact zeros",
    "logmel": "standardized log-Mel features [frames, mels] of one window (ser_bnn.nn.frontend)",
    "speaker_stats": "speaker statistics of the raw log-Mel log(mel + log_offset) over signal frames: "
    "row 0 frame count (same value in every band), row 1 per-band sum, row 2 per-band sum of squares; "
    "count < min_stats_frames (e.g. all zeros) selects the default statistics",
    "probabilities": "softmax probabilities, in the order of labels",
    "window_stats": "this window's statistics, same layout as speaker_stats, over its signal frames "
    "(frames with a non-zero sample), independent of the speaker_stats input",
    "speech_frames": "number of this window's frames that pass the speech rule (see gating)",
}


def _tensor(info: Any, index: int, role: str) -> dict[str, Any]:
    return {
        "name": info.name,
        "index": index,
        "role": role,
        "shape": list(info.shape),
        "dtype": info.dtype,
        "description": ROLE_DESCRIPTIONS[role],
    }


def describe(cfg: Config, input_kind: str, info_in: Any, info_out: Any) -> dict[str, Any]:
    """The model description shared by the embedded metadata and the sidecar.

    `info_in` / `info_out`: the flatbuffer's input and output tensors (lists, in the flatbuffer's
    order; a single tensor is a one-element list). `input` / `output` describe the signal input and
    the probabilities (as before the statistics interface); `inputs` / `outputs` list every tensor
    with its index and role; `speaker_stats` and `gating` give the rules and constants.
    """
    from ser_bnn.dsp import gating, speaker
    from ser_bnn.runtime.roles import find_roles

    fc = cfg.features
    ins = list(info_in) if isinstance(info_in, list | tuple) else [info_in]
    outs = list(info_out) if isinstance(info_out, list | tuple) else [info_out]
    signal_shape = (1, fc.segment_samples) if input_kind == "waveform" else (1, fc.segment_frames, fc.n_mels)
    roles = find_roles(
        [t.shape for t in ins], [t.shape for t in outs], signal_shape, len(cfg.labels), fc.n_mels
    )
    names = {**roles.describe()["inputs"], **roles.describe()["outputs"]}
    role_of = {("in", i): r for r, i in roles.describe()["inputs"].items()}
    role_of.update({("out", i): r for r, i in roles.describe()["outputs"].items()})
    role_of[("in", roles.signal)] = input_kind
    inputs = [_tensor(t, i, role_of[("in", i)]) for i, t in enumerate(ins)]
    outputs = [_tensor(t, i, role_of[("out", i)]) for i, t in enumerate(outs)]
    signal = inputs[roles.signal]
    probs = outputs[names["probabilities"]]
    desc: dict[str, Any] = {
        "format": SIDECAR_FORMAT,
        "ser_bnn_version": __version__,
        "model_name": cfg.model.name,
        "binary": cfg.model.binary,
        "labels": list(cfg.labels),
        "input": {
            **{k: signal[k] for k in ("name", "shape", "dtype")},
            "kind": input_kind,
            "description": signal["description"],
        },
        "output": {**{k: probs[k] for k in ("name", "shape", "dtype")}, "kind": probs["description"]},
        "inputs": inputs,
        "outputs": outputs,
        "features": dataclasses.asdict(fc),
        "sample_rate": fc.sample_rate,
        "window_samples": fc.segment_samples,
        "hop_samples": fc.segment_hop_samples,
        "pooling": cfg.model.pooling,
    }
    if roles.speaker_stats is not None:
        desc["speaker_stats"] = {
            "layout": "[1, 3, n_mels]: count (every band), sum, sum of squares of log(mel + log_offset)",
            "min_stats_frames": speaker.MIN_STATS_FRAMES,
            "count_cap": speaker.COUNT_CAP,
            "std_floor": fc.std_floor,
            "rule": "count < min_stats_frames: default mean/std; else mean = sum/count, "
            "std = max(sqrt(max(sumsq/count - mean^2, 0)), std_floor)",
            "update": "classify a window with the statistics before it; if speech_frames >= "
            "min_speech_frames add its window_stats; if count > count_cap scale count, sum, sumsq "
            "by count_cap/count",
            "default": {"count": 0, "mean": list(fc.norm_mean), "std": list(fc.norm_std)},
        }
    if roles.gated:
        desc["gating"] = gating.describe()
    return desc


def embed_metadata(flatbuffer: bytes, name: str, payload: bytes) -> bytes:
    """Add (or replace) a named entry of the flatbuffer's metadata (a new buffer holds `payload`)."""
    import flatbuffers

    tfl = schema()
    model = tfl.ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    model.metadata = [m for m in (model.metadata or []) if _str(m.name) != name]
    buf = tfl.BufferT()
    buf.data = np.frombuffer(payload, dtype=np.uint8)
    model.buffers.append(buf)
    entry = tfl.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(flatbuffer) + len(payload) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v or "")


def embed_description(flatbuffer: bytes, desc: dict[str, Any]) -> bytes:
    """The flatbuffer with `desc` (compact JSON) as its `METADATA_NAME` metadata entry."""
    return embed_metadata(flatbuffer, METADATA_NAME, json.dumps(desc, separators=(",", ":")).encode())


def size_report(flatbuffer: bytes) -> dict[str, Any]:
    """File size, op counts and constant bytes (bit-packed, float32, other) of a flatbuffer."""
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


def sidecar(desc: dict[str, Any], flatbuffer: bytes, target: Path, run: Run) -> dict[str, Any]:
    """MODEL.json: the description, the model's file name, SHA-256 and size, the run and its config."""
    return {
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


def write_artifact(
    target: Path,
    flatbuffer: bytes,
    side: dict[str, Any],
    report: dict[str, Any],
    twin: bytes | None = None,
) -> None:
    """Write labels, sidecar, model, (twin) and report, each atomically, in that order."""
    paths = sidecar_paths(target)
    # The sidecar names the model's SHA-256, so a crash between these writes leaves a pair that
    # predict refuses (mismatch) rather than one that silently disagrees.
    atomic_write_text(paths["labels"], "\n".join(side["labels"]) + "\n")
    atomic_write_text(paths["sidecar"], json.dumps(side, indent=2) + "\n")
    atomic_write_bytes(target, flatbuffer)
    if twin is not None:
        atomic_write_bytes(paths["twin"], twin)
    atomic_write_text(paths["report"], json.dumps(report, indent=2, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


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
                + (
                    f"{r['max_abs_diff_flip_corrected']:.2e} with the {r['rounding_flip_windows']} "
                    f"rounding-flip window(s) re-anchored ({r['flipped_signs']} sign(s), largest |x| "
                    f"{r['max_abs_flipped_value']:.1e}), "
                    if r.get("rounding_flip_windows")
                    else ""
                )
                + f"exact {r['exact_windows']}/{p['windows']} windows",
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
