"""`export_run`: convert a run, check the flatbuffer, and only then write the artifact."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ser_bnn import __version__
from ser_bnn.errors import SerBnnError
from ser_bnn.export.artifact import describe, embed_description, sidecar, size_report, write_artifact
from ser_bnn.export.conversion import (
    Run,
    check_input_kind,
    convert,
    ensure_savedmodel,
    float_twin_flatbuffer,
    load_run,
    wrap_model,
)
from ser_bnn.export.graph import takes_stats
from ser_bnn.export.opcheck import binary_layers, check_binary_ops
from ser_bnn.export.parity_data import Log, edge_inputs, heldout_windows, quiet, speaker_stats_for_parity
from ser_bnn.export.parity_gate import DEFAULT_TOLERANCE, parity
from ser_bnn.runtime.flatbuffer import read_model
from ser_bnn.runtime.sidecar import sidecar_paths


def default_output(run: Run, input_kind: str) -> Path:
    suffix = "" if input_kind == "waveform" else "-logmel"
    return run.run_dir / "export" / f"{run.cfg.model.name}{suffix}.tflite"


def _check_target(target: Path) -> None:
    if target.suffix != ".tflite":
        raise SerBnnError(f"output must end in .tflite, got {target}")
    if target.is_dir():
        raise SerBnnError(f"output {target} is a directory")


def export_run(
    run_dir: str | Path,
    *,
    out: str | Path | None = None,
    input_kind: str = "waveform",
    data_dir: str | Path | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_utterances: int | None = None,
    float_twin: bool = True,
    save_twin: bool = False,
    log: Log = quiet,
) -> dict[str, Any]:
    """Convert, check and write a run's model; returns the export report (also MODEL.report.json).

    Args:
      run_dir: a finished run directory written by `ser-bnn train` (one fold).
      out: the .tflite to write (default RUN_DIR/export/<model>[-logmel].tflite); MODEL.json,
        MODEL.labels.txt and MODEL.report.json are written beside it.
      input_kind: "waveform" ([1, 48000] samples in) or "logmel" ([1, 300, 40] features in).
      data_dir: corpus directory for the parity gate (default: as for training).
      tolerance: parity gate, max |p_tflite - p_keras| per class.
      max_utterances: check only the first N held-out test utterances (None: all).
      float_twin: convert the untrained float CRNN twin for the compression ratio.
      save_twin: also write the twin as MODEL.float-twin.tflite.
      log: progress messages.
    """
    check_input_kind(input_kind)
    if not tolerance >= 0:
        raise SerBnnError(f"tolerance must be >= 0, got {tolerance}")
    if max_utterances is not None and max_utterances < 0:
        raise SerBnnError(f"max_utterances must be >= 0, got {max_utterances}")
    if out is not None:
        _check_target(Path(out))
    t_start = time.perf_counter()
    run = load_run(run_dir)
    target = Path(out) if out else default_output(run, input_kind)
    _check_target(target)
    log(f"run {run.run_dir}: {run.cfg.model.name}, weights {run.weights_source}")
    wrote_savedmodel = ensure_savedmodel(run)
    if wrote_savedmodel:
        log(f"wrote SavedModel {run.run_dir / 'model'}")

    # Parity inputs first: a missing corpus should fail before minutes of conversion.
    real, owners = heldout_windows(run, data_dir, max_utterances, log)
    windows = {"heldout_test": real, **{k: v[None] for k, v in edge_inputs(run.cfg.features).items()}}
    speaker_stats = None
    if input_kind == "waveform" and takes_stats(run.cfg.features):
        speaker_stats = speaker_stats_for_parity(run, real, owners, data_dir)
        log(f"parity statistics: default (count 0) and {', '.join(speaker_stats)}")

    keras_model = wrap_model(run.model, run.cfg.features, input_kind)
    if input_kind == "logmel":
        from ser_bnn.nn.frontend import make_frontend_layer

        frontend = make_frontend_layer(run.cfg.features)
        windows = {k: np.asarray(frontend(v)) for k, v in windows.items()}
    t0 = time.perf_counter()
    flatbuffer = convert(keras_model)
    log(f"converted with LCE in {time.perf_counter() - t0:.1f} s: {len(flatbuffer):,} bytes")
    info = read_model(flatbuffer, "converted model")
    desc = describe(run.cfg, input_kind, info.inputs, info.outputs)
    flatbuffer = embed_description(flatbuffer, desc)
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
        speaker_stats=speaker_stats,
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
    log: Log = quiet,
    extra: dict[str, Any] | None = None,
    speaker_stats: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Op check and parity gate on the final bytes, then the atomic writes.

    `speaker_stats` ({name: [1, 3, n_mels]}): statistics the parity gate runs a model with a
    speaker-statistics input with, besides the default ones (count 0)."""
    extra = dict(extra or {})
    op_check = check_binary_ops(flatbuffer, binary_layers(keras_model))
    log(f"op check: {op_check['lce_bconv2d']} LceBconv2d for {op_check['binary_layers']} binary layers")
    par = parity(flatbuffer, keras_model, windows, tolerance, log, speaker_stats)

    from ser_bnn.nn.summary import model_summary

    model_size = size_report(flatbuffer)
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
        t = size_report(twin_bytes)
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
    report["files"] = {"model": str(target), **{k: str(v) for k, v in paths.items() if k != "twin"}}
    save = twin_bytes is not None and save_twin
    if save:
        report["files"]["float_twin"] = str(paths["twin"])
    if "t_start" in extra:
        report["seconds"] = round(time.perf_counter() - extra.pop("t_start"), 1)
    report.update(extra)
    side = sidecar(desc, flatbuffer, target, run)
    write_artifact(target, flatbuffer, side, report, twin_bytes if save else None)
    return report
