"""Export a trained run as a bit-packed, waveform-in .tflite, with an op check and a parity gate.

`export_run` (the entry point; everything but the run directory is keyword-only and checked
before any work) rebuilds the run's network at batch size 1, puts the log-Mel front end in
front of it, converts it with LCE and embeds a JSON description as flatbuffer metadata. Before
anything is written, the final bytes pass:

1. the binary-op check (`opcheck`): every binary layer is a bit-packed `LceBconv2d`;
2. the parity gate (`parity_gate`): LCE's interpreter (default kernels and XNNPACK) agrees with
   the Keras model on every held-out test window and on edge inputs.

Only then are MODEL.tflite, MODEL.json (sidecar), MODEL.labels.txt and MODEL.report.json
written (`artifact`), each atomically. A failed export leaves nothing new at the target.

Modules: `conversion` (run loading, fixed-batch rebuild, LCE converter call), `opcheck`,
`parity_gate` (with `parity_data`, the windows it runs, and `flips`, the judge of sign flips),
`artifact` (the files and their layout, shared with `ser_bnn.runtime.predict`),
`pipeline` (`export_run`, `finish_export`).
"""

from __future__ import annotations

from ser_bnn.export.artifact import describe, embed_metadata, format_report
from ser_bnn.export.conversion import (
    INPUT_KINDS,
    Run,
    convert,
    ensure_savedmodel,
    float_twin_flatbuffer,
    load_run,
    wrap_model,
)
from ser_bnn.export.opcheck import BinaryLayer, binary_layers, check_binary_ops
from ser_bnn.export.parity_data import edge_inputs, heldout_windows
from ser_bnn.export.parity_gate import DEFAULT_TOLERANCE, INTERPRETER_SETTINGS, keras_predict, parity
from ser_bnn.export.pipeline import default_output, export_run, finish_export
from ser_bnn.runtime.sidecar import METADATA_NAME, SIDECAR_FORMAT, read_description, sidecar_paths
from ser_bnn.training.rundir import WEIGHT_FILES

__all__ = [
    "DEFAULT_TOLERANCE",
    "INPUT_KINDS",
    "INTERPRETER_SETTINGS",
    "METADATA_NAME",
    "SIDECAR_FORMAT",
    "WEIGHT_FILES",
    "BinaryLayer",
    "Run",
    "binary_layers",
    "check_binary_ops",
    "convert",
    "default_output",
    "describe",
    "edge_inputs",
    "embed_metadata",
    "ensure_savedmodel",
    "export_run",
    "finish_export",
    "float_twin_flatbuffer",
    "format_report",
    "heldout_windows",
    "keras_predict",
    "load_run",
    "parity",
    "read_description",
    "sidecar_paths",
    "wrap_model",
]
