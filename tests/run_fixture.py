"""A tiny but really trained run directory for the export and predict tests.

`make_tiny_run` trains a BCRNN with 8 conv filters, 8 LSTM units and an 8-unit FC for one
epoch on one Emo-DB speaker (03) and tests it on a dozen utterances of speaker 12
(short and long ones), through the same `train_fold` as `ser-bnn train`. The session-scoped
fixtures `tiny_run` and `tiny_export` share it between test modules (import them from here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ser_bnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)

TINY_TEST_IDS = (  # 1.2 s to 6.0 s: one to two windows each
    "12a01Fb", "12a01Nb", "12a02Ac", "12a05Ta", "12b02Ea", "12b02Na", "12b03Ta", "12b09Td",
    "12a01Wc", "12a01Lb", "12a02Ec", "12b10Ac",
)


def make_tiny_run(run_dir: Path, emodb_dir: Path, cache_dir: Path, binary: bool = True) -> Path:
    from ser_bnn.config import Config, ModelConfig, TrainConfig
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.splits import Fold
    from ser_bnn.training.train import train_fold

    corpus = load_corpus("emodb", emodb_dir)
    by_id = {u.id: u for u in corpus.utterances}
    train = [u for u in corpus.utterances if u.speaker == "03"]
    test = [by_id[i] for i in TINY_TEST_IDS if i in by_id]
    assert len(test) == len(TINY_TEST_IDS), "expected Emo-DB utterances of speaker 12 are missing"
    fold = Fold(name="tiny", train=train, dev=[], test=test, test_speakers=("12",))
    cfg = Config(
        model=ModelConfig(name="bcrnn" if binary else "crnn", n_classes=len(corpus.labels),
                          conv_filters=8, lstm_units=8, fc_units=8),
        train=TrainConfig(epochs=1, batch_size=32, learning_rate=1e-3, seed=0, patience=5,
                          train_segment_hop_frames=150, dev_speakers=0),
        labels=corpus.labels,
        dataset="emodb",
    )
    train_fold(cfg, fold, run_dir, cache_dir=cache_dir, progress=False, split_name="tiny")
    return run_dir


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, emodb_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("tiny_run")
    return make_tiny_run(root / "run", emodb_dir, root / "cache")


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory, tiny_run: Path, emodb_dir: Path) -> dict:
    """`ser-bnn export RUN --tflite -o DIR/tiny.tflite` on the tiny run: {"model": path, "report": dict}."""
    import json

    from ser_bnn.cli import main

    out = tmp_path_factory.mktemp("tiny_export") / "tiny.tflite"
    args = ["export", str(tiny_run), "--tflite", "-o", str(out), "--data-dir", str(emodb_dir), "--quiet"]
    code = main(args)
    assert code == 0
    return {"model": str(out), "report": json.loads(out.with_name("tiny.report.json").read_text())}
