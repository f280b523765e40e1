"""Reading an exported model's description: the sidecar MODEL.json, else the metadata embedded in
MODEL.tflite, else MODEL.labels.txt. `ser_bnn.export.artifact` writes these files with the same
names and layout (`sidecar_paths`, `METADATA_NAME`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ser_bnn.errors import SerBnnError
from ser_bnn.runtime.flatbuffer import read_model

METADATA_NAME = "ser_bnn"


SIDECAR_FORMAT = "ser-bnn-tflite/1"


def sidecar_paths(model_path: Path) -> dict[str, Path]:
    """The files written beside MODEL.tflite: sidecar, labels, report and (optional) float twin."""
    base = model_path.with_suffix("")
    return {
        "sidecar": base.with_name(base.name + ".json"),
        "labels": base.with_name(base.name + ".labels.txt"),
        "report": base.with_name(base.name + ".report.json"),
        "twin": base.with_name(base.name + ".float-twin.tflite"),
    }


def read_description(path: Path, data: bytes) -> tuple[dict[str, Any], str]:
    """The description of MODEL.tflite (`data` = its bytes) and where it came from: MODEL.json
    sidecar ("sidecar", its SHA-256 checked), else the embedded metadata ("embedded metadata"),
    else MODEL.labels.txt ("labels.txt": labels only). The flatbuffer is checked by
    `read_model` on the way, so truncated or garbled files are refused with one line."""
    paths = sidecar_paths(path)
    sidecar, labels_txt = paths["sidecar"], paths["labels"]
    desc: dict[str, Any] | None = None
    source = ""
    if sidecar.is_file():
        try:
            desc = json.loads(sidecar.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SerBnnError(f"cannot read sidecar {sidecar}: {e}") from None
        if not isinstance(desc, dict):
            raise SerBnnError(f"sidecar {sidecar} is not a JSON object")
        sha = desc.get("sha256")
        if sha and sha != hashlib.sha256(data).hexdigest():
            raise SerBnnError(
                f"{path} does not match its sidecar {sidecar.name} (SHA-256 differs): "
                "the model was replaced, truncated or corrupted; export it again"
            )
        source = "sidecar"
    info = read_model(data, str(path))  # refuses truncated/garbled files before the C++ code sees them
    if desc is None and METADATA_NAME in info.metadata:
        try:
            desc = json.loads(info.metadata[METADATA_NAME].decode())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SerBnnError(f"{path}: unreadable embedded '{METADATA_NAME}' metadata") from None
        source = "embedded metadata"
    if desc is None and labels_txt.is_file():
        labels = [s.strip() for s in labels_txt.read_text(errors="replace").splitlines() if s.strip()]
        desc = {"labels": labels, "input": {"kind": "waveform"}}
        source = "labels.txt"
    if desc is None:
        raise SerBnnError(
            f"{path}: no sidecar {sidecar.name}, no embedded ser-bnn metadata and no "
            f"{labels_txt.name}: cannot tell the labels (is this a ser-bnn export?)"
        )
    return desc, source
