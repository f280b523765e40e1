"""The exported model's tensors by role, and one window through it (no TensorFlow).

TFLite keeps the tensors in its own order (LCE 0.16 puts the outputs as speech_frames,
window_stats, probabilities), so they are found by shape, which is unambiguous:

    inputs   signal         [1, S] waveform (or [1, T, n_mels] log-Mel for `--input logmel`)
             speaker_stats  [1, 3, n_mels]   (norm "speaker" waveform models only)
    outputs  probabilities  [1, n_classes]
             window_stats   [1, 3, n_mels]   (waveform models exported since the statistics interface)
             speech_frames  [1, 1]

Models exported before the statistics interface (one input, one output) still load: they have no
statistics and no gating (`Roles.gated` is False).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ser_bnn.errors import SerBnnError


@dataclass(frozen=True)
class Roles:
    """Indices of the model's tensors (None: the model does not have it)."""

    signal: int
    probabilities: int
    speaker_stats: int | None = None
    window_stats: int | None = None
    speech_frames: int | None = None

    @property
    def gated(self) -> bool:
        return self.window_stats is not None and self.speech_frames is not None

    def describe(self) -> dict[str, dict[str, int]]:
        ins = {"signal": self.signal, "speaker_stats": self.speaker_stats}
        outs = {
            "probabilities": self.probabilities,
            "window_stats": self.window_stats,
            "speech_frames": self.speech_frames,
        }
        return {
            "inputs": {k: v for k, v in ins.items() if v is not None},
            "outputs": {k: v for k, v in outs.items() if v is not None},
        }


def find_roles(
    input_shapes: list[tuple[int, ...]],
    output_shapes: list[tuple[int, ...]],
    signal_shape: tuple[int, ...],
    n_classes: int,
    n_mels: int,
    name: str = "model",
) -> Roles:
    """Match tensors to roles by shape; a one-line SerBnnError if the model does not fit."""
    stats_shape = (1, 3, n_mels)

    def index(shapes: list[tuple[int, ...]], shape: tuple[int, ...], what: str, required: bool) -> int | None:
        hits = [i for i, s in enumerate(shapes) if tuple(s) == shape]
        if len(hits) > 1:
            raise SerBnnError(f"{name}: several {what} tensors of shape {shape}")
        if not hits and required:
            found = ", ".join(str(tuple(s)) for s in shapes)
            raise SerBnnError(
                f"{name}: no {what} tensor of shape {shape} (has {found}): "
                "not a ser-bnn model or wrong sidecar"
            )
        return hits[0] if hits else None

    roles = Roles(
        signal=index(input_shapes, tuple(signal_shape), "input", True),
        probabilities=index(output_shapes, (1, n_classes), f"output for {n_classes} labels", True),
        speaker_stats=index(input_shapes, stats_shape, "speaker_stats", False),
        window_stats=index(output_shapes, stats_shape, "window_stats", False),
        speech_frames=index(output_shapes, (1, 1), "speech_frames", False) if n_classes != 1 else None,
    )
    known_in = sum(i is not None for i in (roles.signal, roles.speaker_stats))
    known_out = sum(i is not None for i in (roles.probabilities, roles.window_stats, roles.speech_frames))
    if known_in != len(input_shapes) or known_out != len(output_shapes):
        raise SerBnnError(f"{name}: unexpected tensors: inputs {input_shapes}, outputs {output_shapes}")
    if (roles.window_stats is None) != (roles.speech_frames is None):
        raise SerBnnError(f"{name}: has only one of the window_stats / speech_frames outputs")
    return roles


@dataclass
class WindowOutput:
    """What one window gives: class probabilities [C], its statistics [3, n_mels], speech frames."""

    probabilities: np.ndarray
    window_stats: np.ndarray | None = None
    speech_frames: float | None = None


def invoke(interp, roles: Roles, signal: np.ndarray, stats: np.ndarray | None = None) -> WindowOutput:  # noqa: ANN001
    """Run one window (`signal` without the batch axis) with the statistics tensor [1, 3, n_mels]."""
    inputs: list[np.ndarray | None] = [None] * len(interp.input_shapes)
    inputs[roles.signal] = np.asarray(signal, np.float32)[None]
    if roles.speaker_stats is not None:
        if stats is None:
            stats = np.zeros(interp.input_shapes[roles.speaker_stats], np.float32)
        inputs[roles.speaker_stats] = np.asarray(stats, np.float32).reshape(
            interp.input_shapes[roles.speaker_stats]
        )
    outs = interp.invoke(inputs)
    return WindowOutput(
        probabilities=outs[roles.probabilities][0],
        window_stats=None if roles.window_stats is None else outs[roles.window_stats][0],
        speech_frames=None if roles.speech_frames is None else float(outs[roles.speech_frames][0, 0]),
    )
