"""`benchmarks/protocol.py --jobs`: LOSO folds side by side, each with its share of the threads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import protocol  # noqa: E402


def test_jobs_run_folds_at_once_and_name_a_failed_one(tmp_path: Path) -> None:
    """Two real `ser-bnn train` processes start together (no data: each exits with its one-line
    error); the first failure is named."""
    spec = {"model": "bcrnn", "split": "loso", "seed": 0, "runs": tmp_path, "extra": [],
            "data_dir": str(tmp_path / "no-such-corpus")}  # fmt: skip
    failed = protocol.run_all([{**spec, "fold": "03"}, {**spec, "fold": "08"}], jobs=2, poll=0.2)
    assert failed is not None and failed.startswith("bcrnn loso seed 0 ")


def test_jobs_need_loso() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "protocol.py"), "--split", "fixed", "--jobs", "2"],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "--jobs needs --split loso" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_speakers_of_the_parallel_loso() -> None:
    assert protocol.LOSO_SPEAKERS == ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")
    assert protocol.LOSO_FOLDS == 10
