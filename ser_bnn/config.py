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

from ser_bnn.atomic import atomic_write_text
from ser_bnn.errors import ConfigError

NORMS = ("speaker", "global", "segment")
READOUTS = ("mean", "last")
SPEECH_RULES = ("energy-flatness", "spectral-change")  # the speech rules of ser_bnn.dsp.gating
# gradient estimators of the activation sign (as ser_bnn.nn.quantizers.ESTIMATORS; no TensorFlow here)
ESTIMATORS = ("ste", "approx", "swish")


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
    # "speaker": each speaker's own statistics (training: offline, over the speaker's audio);
    # "global": fixed statistics of the training speakers; "segment": each 3 s segment's own.
    norm: str = "speaker"
    # per-band mean / std over the training speakers' frames: the fixed statistics of "global", and the
    # default statistics of "speaker" (used where no speaker statistics are given, e.g. an exported model)
    norm_mean: tuple[float, ...] = ()
    norm_std: tuple[float, ...] = ()
    std_floor: float = 1e-3
    # the speech rule (ser_bnn.dsp.gating.RULES) that decides offline which segments are trained on, which
    # windows make a speaker's statistics and which segments evaluation pools; the exported graph always
    # computes gating.DEPLOYED_RULE. Training stays on the first gate: the deployed rule decides 25 of the
    # 410 clean windows of the fixed split's training speakers (6.1 %) differently, all from speech to not
    # speech (docs/SPEECH_DETECTOR.md), so the recipe and its committed results would change
    speech_rule: str = "energy-flatness"

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
        if self.norm not in NORMS:
            raise ConfigError(f"features.norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if self.speech_rule not in SPEECH_RULES:
            raise ConfigError(
                f"features.speech_rule must be one of {', '.join(SPEECH_RULES)}, got {self.speech_rule!r}"
            )
        for name in ("norm_mean", "norm_std"):
            v = getattr(self, name)
            if v and len(v) != self.n_mels:
                raise ConfigError(f"{name} needs {self.n_mels} values, got {len(v)}")
        if self.norm_std and min(self.norm_std) <= 0:
            raise ConfigError("norm_std must be positive")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ConfigError(f"need 0 <= fmin < fmax <= sample_rate/2, got {self.fmin}, {self.fmax}")


@dataclass(frozen=True)
class ModelConfig:
    """BCRNN / CRNN shape (paper section 3 and 4.2). `binary=False` gives the float CRNN twin."""

    name: str = "bcrnn"  # "bcrnn" (binary) or "crnn" (full precision, same code path)
    n_classes: int = 7
    conv_filters: int = 128
    conv_kernel: tuple[int, int] = (5, 3)  # (time, frequency)
    pool_size: tuple[int, int] = (2, 2)
    binary_first_layer: bool = True  # binarize the log-Mel input of the conv (paper) or keep it float
    # which other layers of the BCRNN are binary (paper: all); False keeps that layer's float twin,
    # for the ablation of what each binarization costs
    binary_lstm: bool = True
    binary_fc: bool = True
    lstm_units: int = 128
    # BiLSTM read-out: "last" state of each direction (paper), or the "mean" over time of each
    # direction's outputs, zero-padded steps excluded
    readout: str = "mean"
    fc_units: int = 64
    # how the binary layers binarize (ser_bnn.nn.layers.BinarizationOptions; the paper: all off):
    # gradient estimator of the activation sign ("ste", "approx", "swish": ser_bnn.nn.quantizers)
    sign_estimator: str = "ste"
    # a learned per-channel threshold before every activation sign: sign(x - b) (ReActNet's RSign);
    # for the recurrent input sign(h - b), which depends on the output gate where sign(h) = sign(c) does not
    sign_threshold: bool = False
    # sign planes of the recurrent input h_{t-1}: 1 (paper) or 2 (residual binarization)
    recurrent_bits: int = 1
    # False: binary inputs with real (clipped) weights, stage 1 of two-stage training (not exportable)
    binary_weights: bool = True
    # batch normalization inside the recurrence (ser_bnn.nn.layers.StepNorm) on both products and on c,
    # instead of the alpha * beta scales (Ardakani et al., ICLR 2019; Hou et al., NeurIPS 2019)
    recurrent_norm: bool = False
    # on the BiLSTM read-out (only before a float FC layer: a dropped 0 in front of a binary layer
    # would become sign(0) = +1) and before the classifier; training only
    dropout: float = 0.3
    # utterance decision from its speech segments' posteriors (ser_bnn.dsp.segments.pool_posteriors):
    # "max" per class (paper) or "mean-log" (geometric mean); saved in the export's sidecar
    pooling: str = "max"

    @property
    def binary(self) -> bool:
        """The BCRNN is binary, its CRNN twin is not."""
        return self.name == "bcrnn"

    def validate(self) -> None:
        if self.name not in ("bcrnn", "crnn"):
            raise ConfigError(f"model must be 'bcrnn' or 'crnn', got {self.name!r}")
        if self.n_classes < 2:
            raise ConfigError(f"need at least 2 classes, got {self.n_classes}")
        if self.readout not in READOUTS:
            raise ConfigError(f"model.readout must be one of {', '.join(READOUTS)}, got {self.readout!r}")
        if len(self.conv_kernel) != 2 or len(self.pool_size) != 2:
            raise ConfigError("conv_kernel and pool_size must have two entries (time, frequency)")
        if min(self.conv_filters, self.lstm_units, self.fc_units, *self.conv_kernel, *self.pool_size) < 1:
            raise ConfigError(
                "conv_filters, lstm_units, fc_units, conv_kernel and pool_size must be positive"
            )
        if self.pooling not in ("max", "mean-log"):
            raise ConfigError(f"model.pooling must be 'max' or 'mean-log', got {self.pooling!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}")
        if self.sign_estimator not in ESTIMATORS:
            raise ConfigError(
                f"model.sign_estimator must be one of {', '.join(ESTIMATORS)}, got {self.sign_estimator!r}"
            )
        if self.recurrent_bits not in (1, 2):
            raise ConfigError(f"model.recurrent_bits must be 1 or 2, got {self.recurrent_bits}")
        if self.recurrent_norm and self.recurrent_bits != 1:
            raise ConfigError("model.recurrent_norm needs model.recurrent_bits 1")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule, augmentation and model selection. The paper: Adam, lr 1e-5, batch 40."""

    # 12 epochs on all non-test speakers, no model selection (dev_speakers = 0): the schedule was
    # chosen on the dev speakers of the ablation runs (benchmarks/ablation.py, --dev-speakers 2)
    epochs: int = 12
    batch_size: int = 16
    learning_rate: float = 1e-3  # peak Adam learning rate
    warmup_epochs: int = 2  # linear warm-up from lr/10 to lr
    lr_decay: str = "cosine"  # "cosine" to min_lr_ratio * lr at the last epoch, or "none"
    min_lr_ratio: float = 0.05
    weight_decay: float = 1e-4  # decoupled (AdamW-style) decay of float weights; binary latent weights never
    seed: int = 0
    patience: int = 12  # early stopping: epochs without a better (smoothed) dev UAR
    select_window: int = 3  # model selection on the mean dev UAR of the last N epochs
    train_segment_hop_frames: int = 100  # overlapping training segments (augmentation)
    # training speakers held out for model selection and early stopping (both genders when >= 2);
    # 0: train on all of them and keep the last epoch
    dev_speakers: int = 0
    speed_perturb: tuple[float, ...] = (0.9, 1.0, 1.1)  # each epoch draws one speed per utterance
    gain_db: float = 6.0  # random gain in +-gain_db per training segment (0: off)
    # SpecAugment time/frequency masks on training segments: off by default, it cost the CRNN 20
    # points of dev UAR on Emo-DB (benchmarks/results/ablation.json, rows *specaug*)
    spec_augment: bool = False
    time_masks: int = 2
    time_mask_frames: int = 40
    freq_masks: int = 2
    freq_mask_bands: int = 6
    teacher: str = ""  # run directory of a trained float twin: initialise from it and distill
    teacher_init: bool = True  # start the latent weights from the teacher's (False: distill only)
    distill_weight: float = 0.0  # loss = (1 - w) * CE + w * T^2 * KL(teacher || student) at temperature T
    distill_temperature: float = 2.0

    def validate(self) -> None:
        positive = ("epochs", "batch_size", "learning_rate", "patience", "select_window")
        for name in (*positive, "train_segment_hop_frames", "distill_temperature"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"train.{name} must be positive, got {getattr(self, name)}")
        for name in ("warmup_epochs", "weight_decay", "dev_speakers", "gain_db", "min_lr_ratio"):
            if getattr(self, name) < 0:
                raise ConfigError(f"train.{name} must be >= 0, got {getattr(self, name)}")
        if self.lr_decay not in ("cosine", "none"):
            raise ConfigError(f"train.lr_decay must be 'cosine' or 'none', got {self.lr_decay!r}")
        if not self.speed_perturb or min(self.speed_perturb) <= 0.5 or max(self.speed_perturb) >= 2.0:
            raise ConfigError(f"train.speed_perturb needs factors in (0.5, 2), got {self.speed_perturb}")
        if not 0.0 <= self.distill_weight <= 1.0:
            raise ConfigError(f"train.distill_weight must be in [0, 1], got {self.distill_weight}")
        if self.distill_weight > 0 and not self.teacher:
            raise ConfigError("train.distill_weight > 0 needs a teacher run (--teacher RUN_DIR)")


@dataclass(frozen=True)
class Config:
    """Everything that defines a model: saved as `config.json` in every run directory."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    labels: tuple[str, ...] = ()
    dataset: str = "emodb"
    # the reader options the corpus was read with (e.g. IEMOCAP {"classes": 4}): evaluate and export
    # reload it with them (`ser_bnn.data.corpora.registry`)
    corpus_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> Config:
        """Check every section and the shapes they imply together; returns self."""
        self.features.validate()
        self.model.validate()
        self.train.validate()
        pt, pf = self.model.pool_size
        if self.features.segment_frames < pt or self.features.n_mels < pf:
            raise ConfigError(
                f"segment of {self.features.segment_frames} frames x {self.features.n_mels} mels is smaller "
                f"than the pooling {self.model.pool_size}"
            )
        if self.labels and len(self.labels) != self.model.n_classes:
            raise ConfigError(f"{len(self.labels)} labels but model.n_classes={self.model.n_classes}")
        return self

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
            model = _build(ModelConfig, _retired("model", _legacy_model_keys(d.get("model", {}))))
            train = _build(TrainConfig, _retired("train", d.get("train", {})))
            return cls(
                features=feats,
                model=model,
                train=train,
                labels=tuple(d.get("labels", ())),
                dataset=str(d.get("dataset", "emodb")),
                corpus_options=_corpus_options(d),
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


# Options removed because their ablation rows found no gain (the rows stay in
# benchmarks/results/ablation.json): (section, field) -> (the value that meant "off", the train flag).
# A saved config that holds one at that value still loads; any other value is refused by name.
RETIRED_AFTER = "cb21a77"  # the last commit with these options
RETIRED = {
    ("model", "xnor_input_scale"): (True, "--no-xnor-scale"),
    ("model", "input_levels"): (1, "--input-levels"),
    ("model", "lstm_input_levels"): (1, "--lstm-input-levels"),
    ("model", "lstm_input_norm"): (False, "--lstm-input-norm"),
    ("model", "lstm_scales"): ("shared", "--lstm-scales"),
    ("model", "readout_norm"): (False, "--readout-norm"),
    ("train", "binary_lr_scale"): (1.0, "--binary-lr-scale"),
    ("train", "label_smoothing"): (0.0, "--label-smoothing"),
    ("train", "class_weight_power"): (1.0, "--class-weight-power"),
}
RETIRED_VALUES = {("model", "readout", "meanstd"): "--readout meanstd"}


def _retired(section: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values` without the retired fields at their "off" value; a retired option in use is an error."""
    values = dict(values)
    for (sec, name), (off, flag) in RETIRED.items():
        if sec == section and name in values:
            value = values.pop(name)
            if value != off:
                raise ConfigError(_retired_message(f"{section}.{name}={value!r}", flag))
    for (sec, name, value), flag in RETIRED_VALUES.items():
        if sec == section and values.get(name) == value:
            raise ConfigError(_retired_message(f"{section}.{name}={value!r}", flag))
    return values


def _retired_message(setting: str, flag: str) -> str:
    return (
        f"config uses {setting} ({flag}), an option removed after its ablation found no gain; "
        f"commit {RETIRED_AFTER} is the last that can train or load it"
    )


def _legacy_model_keys(values: dict[str, Any]) -> dict[str, Any]:
    """Configs written before `binary` was derived from `name` carry both; they must agree."""
    values = dict(values)
    if "binary" in values:
        binary = values.pop("binary")
        if bool(binary) != (values.get("name", "bcrnn") == "bcrnn"):
            raise ConfigError(f"model.binary={binary} contradicts model.name={values.get('name', 'bcrnn')!r}")
    return values


def _corpus_options(d: dict[str, Any]) -> dict[str, Any]:
    """Saved reader options (lists back to tuples). Configs written before they were saved: IEMOCAP's
    label set followed from the number of labels, every other corpus was read without options."""
    if "corpus_options" not in d:
        return {"classes": len(d.get("labels", ()))} if d.get("dataset") == "iemocap" else {}
    opts = d["corpus_options"]
    if not isinstance(opts, dict):
        raise ConfigError(f"corpus_options must be a JSON object, got {opts!r}")
    return {str(k): tuple(v) if isinstance(v, list) else v for k, v in opts.items()}


def _build(kind: type, values: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown {kind.__name__} keys: {sorted(unknown)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return kind(**kwargs)
