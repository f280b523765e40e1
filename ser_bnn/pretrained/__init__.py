"""The bundled pretrained model: the default BCRNN trained on Emo-DB, exported by `ser-bnn export`.

`ser-bnn predict FILE` uses it when no model is given. Its files sit beside this module:
`bcrnn-emodb.tflite` (waveform and speaker statistics in, probabilities out), `bcrnn-emodb.json` (the
sidecar: labels, window, tensors, gating, pooling) and `bcrnn-emodb.labels.txt`. What it was trained
on, how accurate it is expected to be and its limits: docs/MODEL_CARD.md. One command re-makes it
(train, export, measure, rewrite the card's numbers): `python benchmarks/pretrained.py`.
"""

from __future__ import annotations

from pathlib import Path

from ser_bnn.errors import SerBnnError

NAME = "bcrnn-emodb"
FOLDER = Path(__file__).resolve().parent
FILES = (f"{NAME}.tflite", f"{NAME}.json", f"{NAME}.labels.txt")


def default_model() -> Path:
    """The bundled .tflite (its sidecar checked to be beside it)."""
    missing = [f for f in FILES if not (FOLDER / f).is_file()]
    if missing:
        raise SerBnnError(
            f"the bundled model is incomplete ({', '.join(missing)} missing in {FOLDER}): pass a model "
            "with --model PATH, or re-make it with `python benchmarks/pretrained.py`"
        )
    return FOLDER / FILES[0]
