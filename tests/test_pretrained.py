"""The bundled pretrained model (ser_bnn/pretrained/) and its card.

The files are what benchmarks/pretrained.py recorded (SHA-256 in benchmarks/results/pretrained.json),
the card's generated block is up to date, `ser-bnn predict` uses the model when none is given and
still takes `--model PATH` or a first argument ending in .tflite.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "ser_bnn" / "pretrained"
RESULTS = ROOT / "benchmarks" / "results" / "pretrained.json"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ser_bnn.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_bundled_files_are_the_recorded_ones_and_small():
    from ser_bnn.pretrained import FILES, default_model

    recorded = json.loads(RESULTS.read_text())["files"]
    assert sorted(recorded) == sorted(FILES)
    for f in FILES:
        data = (BUNDLED / f).read_bytes()
        assert hashlib.sha256(data).hexdigest() == recorded[f]["sha256"], f
    assert default_model().stat().st_size < 1_000_000
    sidecar = json.loads((BUNDLED / "bcrnn-emodb.json").read_text())
    assert sidecar["labels"] == (BUNDLED / "bcrnn-emodb.labels.txt").read_text().split()


def test_model_card_is_up_to_date():
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pretrained.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert p.returncode == 0, p.stderr
    card = (ROOT / "docs" / "MODEL_CARD.md").read_text()
    sha = json.loads(RESULTS.read_text())["files"]["bcrnn-emodb.tflite"]["sha256"]
    assert sha in card and "leave one speaker out" in card


def test_predict_defaults_to_the_bundled_model(emodb_dir: Path, tmp_path: Path):
    wav = str(emodb_dir / "wav" / "03a01Fa.wav")
    default = _cli("predict", wav, "--json")
    assert default.returncode == 0, default.stderr
    doc = json.loads(default.stdout)
    assert Path(doc["model"]).resolve() == (BUNDLED / "bcrnn-emodb.tflite").resolve()
    assert doc["results"][0]["emotion"] in doc["labels"]
    copy = tmp_path / "m.tflite"  # the same model elsewhere, named both ways
    for f in ("bcrnn-emodb.tflite", "bcrnn-emodb.json", "bcrnn-emodb.labels.txt"):
        shutil.copyfile(BUNDLED / f, tmp_path / f.replace("bcrnn-emodb", "m"))
    for args in (["--model", str(copy), wav], [str(copy), wav]):
        r = _cli("predict", *args, "--json")
        assert r.returncode == 0, r.stderr
        other = json.loads(r.stdout)
        assert other["model"] == str(copy) and other["results"] == doc["results"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "a.tflite", "b.tflite", "x.wav"], "two models given"),
        (["a.tflite"], "no audio file given"),
        (["--model", "missing.tflite", "x.wav"], "model not found: missing.tflite"),
    ],
)
def test_predict_model_arguments_one_line_errors(args: list[str], message: str, tmp_path: Path):
    r = _cli("predict", *args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"ser-bnn predict: error: {r.stderr.split('error: ', 1)[1].strip()}"
    ]
    assert message in r.stderr and "Traceback" not in r.stderr
