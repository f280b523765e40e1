"""One configuration object for features, model and training, saved as JSON beside every model.

Training, export and inference all read the same `Config`, so they cannot disagree about
the front end (sample rate, window, Mel bands, segment length) or the network shape.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ser_bnn.errors import ConfigError
from ser_bnn.io import atomic_write_text


@dataclass(frozen=True)
class FeatureConfig:
    """Log-Mel front end and segmentation (paper section 4.1)."""

    sample_rate: int = 16000
    win_length: int = 400  # 25 ms at 16 kHz, Hamming window
    hop_length: int = 160  # 10 ms
    n_fft: int = 512  # power of two: TFLite's RFFT2D needs it
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float = 8000.0
    log_offset: float = 1e-6  # log(mel_power + log_offset)
    segment_frames: int = 300  # 3 s segments
    segment_hop_frames: int = 300  # hop between segments (300 = no overlap)
    standardize: bool = True  # standardize the log-Mel bands (padding frames excluded, then zero)
    norm: str = "segment"  # "segment": online, each segment's own statistics; "global": fixed statistics
    norm_mean: tuple[float, ...] = ()  # "global": per-band mean over the training speakers' frames
    norm_std: tuple[float, ...] = ()  # "global": per-band standard deviation
    std_floor: float = 1e-3

    @property
    def segment_samples(self) -> int:
        """Waveform samples per segment: frames * hop (pad_end framing gives exactly that many)."""
        return self.segment_frames * self.hop_length

    @property
    def segment_hop_samples(self) -> int:
        return self.segment_hop_frames * self.hop_length

    @property
    def n_freq_bins(self) -> int:
        return self.n_fft // 2 + 1

    def validate(self) -> None:
        if self.n_fft & (self.n_fft - 1) or self.n_fft < self.win_length:
            raise ConfigError(f"n_fft must be a power of two >= win_length, got {self.n_fft}")
        if self.segment_hop_frames <= 0 or self.segment_frames <= 0:
            raise ConfigError("segment_frames and segment_hop_frames must be positive")
        if self.norm not in ("segment", "global"):
            raise ConfigError(f"norm must be 'segment' or 'global', got {self.norm!r}")
        if self.norm == "global" and self.norm_mean and len(self.norm_mean) != self.n_mels:
            raise ConfigError(f"norm_mean needs {self.n_mels} values, got {len(self.norm_mean)}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ConfigError(f"need 0 <= fmin < fmax <= sample_rate/2, got {self.fmin}, {self.fmax}")


@dataclass(frozen=True)
class ModelConfig:
    """BCRNN / CRNN shape (paper section 3 and 4.2). `binary=False` gives the float CRNN twin."""

    name: str = "bcrnn"  # "bcrnn" (binary) or "crnn" (full precision, same code path)
    binary: bool = True
    n_classes: int = 7
    conv_filters: int = 128
    conv_kernel: tuple[int, int] = (5, 3)  # (time, frequency)
    pool_size: tuple[int, int] = (2, 2)
    binary_first_layer: bool = True  # binarize the log-Mel input of the conv (paper) or keep it float
    xnor_input_scale: bool = True  # XNOR-Net K scaling of the conv input
    lstm_units: int = 128
    fc_units: int = 64
    dropout: float = 0.0

    def validate(self) -> None:
        if self.name not in ("bcrnn", "crnn"):
            raise ConfigError(f"model must be 'bcrnn' or 'crnn', got {self.name!r}")
        if self.n_classes < 2:
            raise ConfigError(f"need at least 2 classes, got {self.n_classes}")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule. The paper: Adam, lr 1e-5, batch 40."""

    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 1e-3
    seed: int = 0
    patience: int = 12
    train_segment_hop_frames: int = 100  # overlapping training segments (augmentation)
    dev_speakers: int = 1  # training speakers held out for model selection
    spec_augment: bool = True  # random time/frequency masks on training segments (SpecAugment)
    time_masks: int = 2
    time_mask_frames: int = 40
    freq_masks: int = 2
    freq_mask_bands: int = 6


@dataclass(frozen=True)
class Config:
    """Everything that defines a model: saved as `config.json` in every run directory."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    labels: tuple[str, ...] = ()
    dataset: str = "emodb"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), self.to_json() + "\n")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        try:
            feats = _build(FeatureConfig, d.get("features", {}))
            model = _build(ModelConfig, d.get("model", {}))
            train = _build(TrainConfig, d.get("train", {}))
            return cls(
                features=feats,
                model=model,
                train=train,
                labels=tuple(d.get("labels", ())),
                dataset=str(d.get("dataset", "emodb")),
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(f"invalid config: {e}") from None

    @classmethod
    def load(cls, path: str | Path) -> Config:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            d = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot read config {p}: {e}") from None
        return cls.from_dict(d)

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


def _build(kind: type, values: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown {kind.__name__} keys: {sorted(unknown)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return kind(**kwargs)
