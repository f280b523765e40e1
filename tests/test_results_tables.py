"""The README's tables are generated from the committed results (benchmarks/readme_tables.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_tables_match_committed_results() -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "readme_tables.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 0, "README.md is out of date: run python benchmarks/readme_tables.py\n" + p.stderr
