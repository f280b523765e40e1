"""Shared fixtures and helpers: the real Emo-DB corpus from ../shared/data/emodb (or $SER_BNN_DATA),
a miniature IEMOCAP release, a tiny model config and a feature cache for CLI trainings, and the
+-1 sign and a binary LSTM with random weights for the layer tests."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import ser_bnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before any test imports TensorFlow)

# tests/run_fixture.py is both imported by test modules and loaded as a plugin (pytest_plugins):
# rewrite it from the first import, so the plugin registration finds it already rewritten
pytest.register_assert_rewrite("run_fixture")

ROOT = Path(__file__).resolve().parents[1]


def emodb_path() -> Path:
    """The real Emo-DB where `ser-bnn --dataset emodb` finds it: $SER_BNN_DATA (the library's one
    variable for the corpus root), else ../shared/data/emodb beside the project."""
    from ser_bnn.data.corpora.registry import DATA_ENV

    env = os.environ.get(DATA_ENV)
    return (Path(env).expanduser() if env else ROOT.parent / "shared" / "data" / "emodb").resolve()


@pytest.fixture(scope="session")
def emodb_dir() -> Path:
    p = emodb_path()
    if not (p / "wav").is_dir():
        pytest.fail(f"real Emo-DB not found at {p} (set SER_BNN_DATA)")
    return p


@pytest.fixture(scope="session")
def emodb(emodb_dir: Path):  # noqa: ANN201 - Corpus
    """The real Emo-DB, read once per session (do not modify it)."""
    from ser_bnn.data.corpora import load_corpus

    return load_corpus("emodb", emodb_dir)


@pytest.fixture(scope="session")
def iemocap_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A miniature IEMOCAP (tests/iemocap_fixture.py), five sessions, 1 s per utterance:
    (the IEMOCAP_full_release folder, {utterance id: 5-class label} of the improvised utterances)."""
    from iemocap_fixture import build_iemocap

    root = tmp_path_factory.mktemp("iemocap")
    expected = build_iemocap(root)
    return root / "IEMOCAP_full_release", expected


def quiet_load(dataset: str, data_dir: Path, **options):  # noqa: ANN003, ANN201 - Corpus
    """`load_corpus` without the warning that a miniature IEMOCAP is not the full release."""
    from ser_bnn.data.corpora import load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_corpus(dataset, data_dir, **options)


TINY_MODEL = {"model": {"conv_filters": 4, "lstm_units": 8, "fc_units": 8}}


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `--config` file for CLI trainings of a tiny model."""
    p = tmp_path_factory.mktemp("cfg") / "tiny.json"
    p.write_text(json.dumps(TINY_MODEL))
    return p


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `--cache-dir` shared by the CLI trainings of a session."""
    return tmp_path_factory.mktemp("cache")


def sign(x: np.ndarray) -> np.ndarray:
    """+-1 with sign(0) = +1, as the binary quantizer."""
    return np.where(x >= 0, 1.0, -1.0)


def lstm_with_weights(
    units: int,
    input_dim: int,
    steps: int,
    binary: bool,
    go_backwards: bool = False,
    readout: str = "last",
    seed: int = 0,
):  # noqa: ANN201 - (BinaryLSTM, (wx [C, 4H], wh [H, 4H], b [4H]))
    """A built `BinaryLSTM` with random weights (uniform kernels, normal bias) from `seed`."""
    from ser_bnn.nn.lstm import BinaryLSTM

    layer = BinaryLSTM(units, binary=binary, go_backwards=go_backwards, readout=readout)
    shape = (None, steps, input_dim)
    layer.build(shape if readout == "last" else [shape, (None, steps)])
    rng = np.random.default_rng(seed)
    wx = rng.uniform(-1, 1, size=(input_dim, 4 * units))
    wh = rng.uniform(-1, 1, size=(units, 4 * units))
    b = rng.normal(scale=0.3, size=4 * units)
    layer.input_proj.kernel.assign(wx[None, None].astype(np.float32))
    layer.cell.recurrent_proj.kernel.assign(wh[None, None].astype(np.float32))
    layer.cell.bias.assign(b.astype(np.float32))
    return layer, (wx, wh, b)


def require_system(missing: Sequence[str], install: str) -> None:
    """Skip (with the reason) when optional system packages are missing; under CI=true, fail instead.

    A new user's machine need not have a JDK or Debian's Android tools, so the README's test command
    skips those tests there; `.ci/run` installs them, so in CI a missing package is an error.
    """
    if not missing:
        return
    reason = f"missing {', '.join(missing)}: install with {install}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)
