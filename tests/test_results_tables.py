"""The results tables of README.md and docs/RESULTS.md are generated from the committed results
(benchmarks/readme_tables.py), and the user-facing docs hold no machine paths or removed options."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

# an absolute path of the machine that made a result (a run directory, a cache)
MACHINE_PATH = re.compile(r"(?<![\w.~])/(?:work|root|tmp|home|Users|mnt|scratch)/")
DOCS = ("README.md", "CONTRIBUTING.md", "data/README.md", "docs/METHOD.md", "docs/RESULTS.md")


def test_generated_blocks_match_committed_results() -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "readme_tables.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 0, "run python benchmarks/readme_tables.py\n" + p.stderr


def test_check_covers_every_block_of_both_files() -> None:
    """A stale number inside any generated block is regenerated; the hand-written text is kept."""
    import readme_tables

    assert set(readme_tables.BLOCKS) == {"README.md", "docs/RESULTS.md"}
    for rel, blocks in readme_tables.BLOCKS.items():
        text = (ROOT / rel).read_text()
        for name in blocks:
            begin, end = readme_tables.markers(name)
            head, rest = text.split(begin, 1)
            inside, tail = rest.split(end, 1)
            assert re.search(r"\d", inside), f"{rel}: block {name} is empty"
            stale = head + begin + re.sub(r"\d", "9", inside, count=3) + end + tail + "\nhand-written\n"
            assert stale != text + "\nhand-written\n"
            assert readme_tables.regenerate(stale, blocks, rel) == text + "\nhand-written\n"


def test_ablation_flags_show_runs_not_machine_paths() -> None:
    """A teacher run recorded as an absolute path appears as its last two parts."""
    from readme_tables import ablation_table

    flags = ["--model", "bcrnn", "--teacher", "/work/runs/ablation/crnn-e12"]
    scores = {"dev_uar_last3": 0.5, "test_uar": 0.5, "train_accuracy": 0.5, "seconds_per_epoch": 10.0}
    run = {"flags": flags, "epochs": 12, **scores}
    row = ablation_table({"kd-e12": run})[-1]
    assert "| `bcrnn --teacher ablation/crnn-e12` | 1 |" in row and not MACHINE_PATH.search(row)


def test_ablation_rows_of_removed_options_name_a_commit_that_has_them() -> None:
    """Seeds of a variant share a row; a removed option's row says so and names the commit."""
    from readme_tables import ablation_table

    def run(dev: float, **extra: str) -> dict:
        return {"flags": ["--model", "bcrnn", "--label-smoothing", "0.1"], "epochs": 12, "dev_uar_last3": dev,
                "test_uar": 0.5, "train_accuracy": 0.5, "seconds_per_epoch": 10.0, **extra}  # fmt: skip

    rows = ablation_table({"ls0.1-e12": run(0.6, last_commit="cb21a77"), "ls0.1-e12-s1": run(0.7)})
    assert rows[-1].startswith(
        "| ls0.1-e12 | `bcrnn --label-smoothing 0.1` (removed; in cb21a77) | 2 | 12 | 65.0 +- 5.0 |"
    )
    assert "(removed" not in ablation_table({"ls0.1-e12": run(0.6)})[-1]


def test_docs_hold_no_machine_paths() -> None:
    for rel in DOCS:
        for n, line in enumerate((ROOT / rel).read_text().splitlines(), 1):
            assert not MACHINE_PATH.search(line), f"{rel}:{n}: machine path: {line}"


def test_doc_links_point_at_files_that_exist() -> None:
    """Every relative Markdown link of the user docs names a file or folder of the repository."""
    for rel in DOCS:
        doc = ROOT / rel
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor in the same file
            path = (doc.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{rel}: link to {target}, which does not exist"


def test_quoted_repository_paths_exist() -> None:
    """A file or folder of the repository quoted in the user docs (`ser_bnn/dsp/gating.py`,
    `research/speed/`) exists: modules that move take their docs with them."""
    top = r"(?:ser_bnn|benchmarks|deploy|research|tests|android_demo|docs|data)/"
    quoted = re.compile(rf"`({top}[\w./-]*(?:\.(?:py|md|json|txt|sh)|/))`")
    for rel in DOCS:
        for path in quoted.findall((ROOT / rel).read_text()):
            assert (ROOT / path).exists(), f"{rel}: `{path}` does not exist"


def test_readme_is_short_and_names_no_removed_option() -> None:
    """Issue 24: a README for users of at most 200 lines, without the options the ablation rejected."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    removed = ("--paper", "--input-levels", "--lstm-input-levels", "--lstm-scales", "--lstm-input-norm",
               "--readout-norm", "--binary-lr-scale", "--label-smoothing", "--class-weight-power",
               "meanstd", "--no-xnor-scale")  # fmt: skip
    named = [o for o in removed if re.search(re.escape(o) + r"(?![\w-])", readme)]
    assert not named, f"README.md names removed options: {named}"


def test_protocol_rows_stand_beside_the_floor_and_the_paper() -> None:
    """Each protocol row carries the linear floor of its split (floor.json) and, for LOSO, the paper's UAR."""
    import json

    from protocol import table

    fold = {"uar": 0.5, "wa": 0.5, "confusion": [[1, 1], [1, 1]]}
    results = {
        "bcrnn-fixed-s0": [dict(fold, split="fixed")],
        "bcrnn-fixed-s1": [dict(fold, split="fixed", uar=0.7)],
        "crnn-loso-s0": [dict(fold, split="loso:03"), dict(fold, split="loso:08", uar=0.9)],
    }
    floors = json.loads((ROOT / "benchmarks" / "results" / "floor.json").read_text())
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line.split("|")[1:-1]
            for line in table(results).splitlines()[2:]}  # fmt: skip
    fixed, loso = rows[("bcrnn", "fixed")], rows[("crnn", "loso")]
    assert fixed[3].strip() == "60.0 +- 10.0" and fixed[7].strip() == "-"
    assert fixed[6].strip() == f"{100 * floors['fixed-speaker']['uar']:.1f}"
    assert loso[3].strip() == "70.0 +- 20.0" and loso[7].strip() == "80.1"
    assert loso[6].strip().startswith(f"{100 * floors['loso-speaker']['uar']:.1f} +- ")


def test_loso_seeds_unfinished_runs_and_the_mean_over_seeds() -> None:
    """A LOSO row per seed names its seed and whether it is unfinished; with two finished seeds a row
    gives the mean of their fold means and the std over seeds; the summary sentence quotes only that."""
    from protocol import LOSO_FOLDS, summarize, table
    from readme_tables import standing

    def run(uar: float, n: int = LOSO_FOLDS) -> list[dict]:
        fold = {"uar": uar, "wa": uar, "confusion": [[2, 0], [0, 2]]}
        return [dict(fold, split=f"loso:{k:02d}") for k in range(n)]

    results = {"bcrnn-loso-s0": run(0.6), "bcrnn-loso-s1": run(0.8), "bcrnn-loso-s2": run(0.1, 3)}
    rows = summarize(results)
    over = [r for r in rows if r.get("over_seeds")]
    assert len(over) == 1 and over[0]["n"] == 2
    assert abs(over[0]["uar"] - 0.7) < 1e-9 and abs(over[0]["std"] - 0.1) < 1e-9
    text = table(results)
    assert "3 of 10 folds (unfinished), seed 2" in text and "10 folds, seed 1" in text
    assert "2 seeds x 10 folds (std over seeds) | 70.0 +- 10.0" in text
    sentence = " ".join(standing(rows))
    assert "10-fold LOSO (floor" in sentence and "BCRNN 70.0 %" in sentence and "BCRNN 10.0" not in sentence
