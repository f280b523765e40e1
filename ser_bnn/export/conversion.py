"""Conversion: load a finished run at a fixed batch size, wrap it with the front end, call LCE's converter.

LCE needs a fixed batch for the LSTM loops, so `load_run` rebuilds the run's network at batch
size 1 with the trained weights; `wrap_model` puts the log-Mel front end in front of it
(waveform [1, 48000] in [-1, 1] and, for norm "speaker", the speaker statistics [1, 3, 40] ->
probabilities [1, n_classes], window statistics and speech-frame count, see `ser_bnn.export.graph`;
or `input_kind='logmel'`: [1, 300, 40] features in, probabilities out);
`convert` runs `larq_compute_engine.convert_keras_model`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ser_bnn.config import Config, FeatureConfig
from ser_bnn.errors import ExportError, SerBnnError
from ser_bnn.training.rundir import BEST_WEIGHTS, is_complete, load_weights, read_state, trained_weights

INPUT_KINDS = ("waveform", "logmel")


@dataclass
class Run:
    """A finished training run, loaded for export."""

    run_dir: Path
    cfg: Config
    model: Any  # tf_keras.Model at batch size 1, trained weights
    split: dict
    weights_source: str


def check_input_kind(input_kind: str) -> None:
    if input_kind not in INPUT_KINDS:
        raise SerBnnError(f"input must be one of {', '.join(INPUT_KINDS)}, got {input_kind!r}")


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
    if not is_complete(run_dir):
        state = read_state(run_dir) or {}
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

    from ser_bnn.nn.models import build_model, load_model, rebuild_for_export

    model = build_model(cfg, batch_size=1)
    weights = trained_weights(run_dir)
    if weights is not None:
        load_weights(model, weights)
        source = weights.name
    elif (run_dir / "model").is_dir():
        model = rebuild_for_export(load_model(run_dir / "model"), cfg, batch_size=1)
        source = "model/"
    else:
        raise SerBnnError(f"{run_dir} has neither {BEST_WEIGHTS} nor a SavedModel in model/")
    return Run(run_dir=run_dir, cfg=cfg, model=model, split=split, weights_source=source)


def ensure_savedmodel(run: Run) -> bool:
    """Write RUN_DIR/model (SavedModel, batch size None) if the run has none. Returns True if written."""
    target = run.run_dir / "model"
    if target.exists():
        return False
    from ser_bnn.nn.models import build_model

    model = build_model(run.cfg)
    model.set_weights(run.model.get_weights())
    from ser_bnn.training.rundir import save_savedmodel

    save_savedmodel(model, target)
    return True


def wrap_model(model: Any, features: FeatureConfig, input_kind: str = "waveform") -> Any:
    """The deployable Keras model at batch 1.

    waveform: [waveform (, speaker_stats)] in, [probabilities, window_stats, speech_frames] out
    (`ser_bnn.export.graph`); logmel: standardized log-Mel [1, T, n_mels] in, probabilities out.
    """
    import tf_keras as keras

    check_input_kind(input_kind)
    if input_kind == "waveform":
        from ser_bnn.export.graph import deploy_model

        return deploy_model(model, features)
    inp = keras.Input(shape=(features.segment_frames, features.n_mels), batch_size=1, name="logmel")
    return keras.Model(inp, model(inp), name=f"{model.name}_{input_kind}")


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


def float_twin_flatbuffer(cfg: Config, input_kind: str) -> bytes:
    """The float CRNN built from the same config (binary off), untrained, converted the same way."""
    from ser_bnn.nn.models import build_model

    twin_cfg = cfg.replace(model=dataclasses.replace(cfg.model, name="crnn"))
    twin = build_model(twin_cfg, batch_size=1)
    return convert(wrap_model(twin, cfg.features, input_kind))
