"""`ser-bnn train` / `evaluate` end to end on real Emo-DB with tiny models, incl. resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from clirun import assert_one_line_error, ser_bnn

FAST = ["--no-progress", "--batch-size", "40"]


def _manifest(emodb_dir, path, speakers=("03", "08", "10", "12"), per_speaker=12):
    """A small real-audio corpus: the first `per_speaker` Emo-DB files of each speaker."""
    rows = ["path,label,speaker"]
    for s in speakers:
        for f in sorted((emodb_dir / "wav").glob(f"{s}*.wav"))[:per_speaker]:
            rows.append(f"{f},{f.name[5]},{s}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_train_then_evaluate_fixed_split(emodb_dir, tmp_path, tiny_config, feature_cache):
    out = tmp_path / "run"
    p = ser_bnn(
        "train",
        "--dataset",
        "emodb",
        "--data-dir",
        emodb_dir,
        "--model",
        "bcrnn",
        "--epochs",
        "2",
        "--config",
        tiny_config,
        "--out",
        out,
        "--cache-dir",
        feature_cache,
        *FAST,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert "UAR" in p.stdout
    m = json.loads((out / "metrics.json").read_text())
    for key in (
        "uar",
        "wa",
        "per_class_recall",
        "confusion",
        "labels",
        "split",
        "test_speakers",
        "n_test_utterances",
        "model",
    ):
        assert key in m, key
    assert m["split"] == "fixed" and m["test_speakers"] == ["12", "14", "15", "16"]
    assert m["n_test_utterances"] == 35 + 69 + 56 + 71
    assert np.array(m["confusion"]).sum() == m["n_test_utterances"]
    assert 0.0 <= m["uar"] <= 1.0 and m["model"] == "bcrnn"
    split = json.loads((out / "split.json").read_text())
    assert not set(split["dev_speakers"]) & set(split["test_speakers"])
    assert not set(split["train_speakers"]) & (set(split["test_speakers"]) | set(split["dev_speakers"]))
    for f in (
        "config.json",
        "labels.txt",
        "history.csv",
        "confusion.png",
        "best_weights.h5",
        "model/saved_model.pb",
    ):
        assert (out / f).exists(), f
    assert any((out / "tb").iterdir())
    # trained with the MatMul input projection (a training-speed option), saved with the 1x1
    # QuantConv2D that export converts
    assert b"input_proj/QuantConv2D" in (out / "model/saved_model.pb").read_bytes()
    assert json.loads((out / "state.json").read_text())["status"] == "complete"
    # evaluate recomputes the same numbers from the saved weights
    e = ser_bnn("evaluate", out, "--data-dir", emodb_dir, "--cache-dir", feature_cache, "--no-progress")
    assert e.returncode == 0, e.stderr[-2000:]
    m2 = json.loads((out / "metrics.json").read_text())
    assert m2["confusion"] == m["confusion"] and m2["uar"] == pytest.approx(m["uar"])
    # --pooling changes the run's decision rule (config and metrics), and back gives the same numbers
    args = ("--data-dir", emodb_dir, "--cache-dir", feature_cache, "--no-progress")
    assert ser_bnn("evaluate", out, "--pooling", "mean-log", *args).returncode == 0
    assert json.loads((out / "config.json").read_text())["model"]["pooling"] == "mean-log"
    assert json.loads((out / "metrics.json").read_text())["pooling"] == "mean-log"
    assert ser_bnn("evaluate", out, "--pooling", m2["pooling"], *args).returncode == 0
    m3 = json.loads((out / "metrics.json").read_text())
    assert m3["confusion"] == m["confusion"] and m3["pooling"] == m2["pooling"]
    # a finished run is never overwritten
    again = ser_bnn(
        "train", "--dataset", "emodb", "--data-dir", emodb_dir, "--out", out, "--epochs", "1", *FAST
    )
    assert_one_line_error(again, "already holds")


def test_evaluate_rejects_unfinished_or_foreign_dirs(tmp_path):
    assert_one_line_error(ser_bnn("evaluate", tmp_path / "nope"), "not found")
    assert_one_line_error(ser_bnn("evaluate", tmp_path), "not a run directory")


def test_resume_after_kill_9(emodb_dir, tmp_path, tiny_config, feature_cache):
    manifest = _manifest(emodb_dir, tmp_path / "m.csv")
    out = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        "csv",
        "--data-dir",
        manifest,
        "--split",
        "loso:12",
        "--epochs",
        "6",
        "--patience",
        "50",
        "--config",
        tiny_config,
        "--out",
        out,
        "--cache-dir",
        feature_cache,
        *FAST,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ser_bnn.cli", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 600
    epoch = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            epoch = json.loads((out / "state.json").read_text()).get("epoch", 0)
        except (OSError, ValueError):
            epoch = 0
        if epoch >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "training ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads((out / "state.json").read_text())
    assert state["status"] == "training" and state["epoch"] >= 2
    assert not (out / "metrics.json").exists()
    # evaluate refuses the half-trained run rather than misreading it
    assert_one_line_error(ser_bnn("evaluate", out), "not a finished run")

    p = ser_bnn(*args, "--resume")
    assert p.returncode == 0, p.stderr[-3000:]
    hist = (out / "history.csv").read_text().splitlines()[1:]
    epochs = [int(r.split(",")[0]) for r in hist]
    assert epochs == [1, 2, 3, 4, 5, 6], epochs  # nothing lost or repeated beyond the killed epoch
    assert json.loads((out / "state.json").read_text())["status"] == "complete"


def test_loso_aggregates_folds(emodb_dir, tmp_path, tiny_config, feature_cache):
    manifest = _manifest(emodb_dir, tmp_path / "m.csv", speakers=("03", "08", "11"), per_speaker=8)
    out = tmp_path / "loso"
    p = ser_bnn(
        "train",
        "--dataset",
        "csv",
        "--data-dir",
        manifest,
        "--split",
        "loso",
        "--epochs",
        "1",
        "--config",
        tiny_config,
        "--out",
        out,
        "--cache-dir",
        feature_cache,
        "--dev-speakers",
        "1",  # 4 speakers: a LOSO fold has 3 to train on
        *FAST,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    m = json.loads((out / "metrics.json").read_text())
    folds = m["folds"]
    assert len(folds) == 3
    assert m["uar"] == pytest.approx(np.mean([f["uar"] for f in folds.values()]))
    assert m["uar_std"] == pytest.approx(np.std([f["uar"] for f in folds.values()]))
    assert np.array(m["confusion"]).sum() == 24 and m["n_test_utterances"] == 24
    assert sorted(m["test_speakers"]) == ["03", "08", "11"]
    assert (out / "confusion.png").is_file()
