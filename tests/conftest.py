"""Shared fixtures: the real Emo-DB corpus from ../shared/data/emodb (or $SER_BNN_EMODB)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

import ser_bnn  # noqa: F401  (sets TF_USE_LEGACY_KERAS before any test imports TensorFlow)

ROOT = Path(__file__).resolve().parents[1]


def emodb_path() -> Path:
    return Path(os.environ.get("SER_BNN_EMODB", ROOT.parent / "shared" / "data" / "emodb")).resolve()


@pytest.fixture(scope="session")
def emodb_dir() -> Path:
    p = emodb_path()
    if not (p / "wav").is_dir():
        pytest.fail(f"real Emo-DB not found at {p} (set SER_BNN_EMODB)")
    return p


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
