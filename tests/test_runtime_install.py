"""The runtime install (`pip install ser-bnn`, no extra): `predict` works, the rest names the extra.

The default run checks it without pip: the base dependencies of pyproject.toml are resolved to
installed distributions through their metadata (recursively, without extras), only those
distributions' top-level modules are linked into a folder, and `ser-bnn` runs with that folder
and the repository as its only site (`python -S`). TensorFlow, Larq, librosa, scikit-learn, pandas
and matplotlib are then not importable, as in a fresh runtime venv. `SER_BNN_VENV_TEST=1` also
builds a real venv with pip (`pip install .`; minutes, and network or a wheel cache).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ONLY = ("tensorflow", "tf_keras", "larq", "librosa", "sklearn", "pandas", "matplotlib", "scipy")
NEEDS_TRAIN = {  # the command and arguments it accepts
    "prepare": ["--dataset", "emodb"],
    "train": ["--dataset", "emodb"],
    "evaluate": ["runs/x"],
    "export": ["runs/x", "--tflite"],
}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _closure(reqs: list[str]) -> set[str]:
    """Installed distributions needed by `reqs` on this Python (their requirements followed, with
    environment markers evaluated and no extras)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(reqs)
    while todo:
        req = Requirement(todo.pop())
        name = req.name.lower().replace("_", "-")
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo += metadata.requires(name) or []
    return seen


def _runtime_site(tmp: Path) -> Path:
    """A folder with the top-level modules of the runtime distributions only (symlinks)."""
    site = tmp / "site"
    site.mkdir()
    for dist in _closure(_project()["dependencies"]):
        for f in metadata.distribution(dist).files or []:
            top = f.parts[0]
            if top.endswith((".dist-info", ".data")) or top in ("..", "bin") or (site / top).exists():
                continue
            src = Path(f.locate()).resolve()
            src = src.parents[len(f.parts) - 2] if len(f.parts) > 1 else src
            (site / top).symlink_to(src)
    return site


def _run(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{site}"
    code = "import sys; from ser_bnn.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-S", "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)  # fmt: skip


def test_dependencies_split_runtime_and_train():
    proj = _project()
    base = {_name(r) for r in proj["dependencies"]}
    extras = proj["optional-dependencies"]
    assert not base & {"tensorflow", "tf-keras", "larq", "librosa", "scikit-learn", "pandas", "matplotlib"}
    assert {"larq-compute-engine", "numpy", "soundfile", "soxr"} <= base
    assert {"tensorflow", "tf-keras", "larq", "librosa"} <= {_name(r) for r in extras["train"]}
    assert "ser-bnn[train]" in extras["test"]  # the README's `pip install -e '.[test]'` trains
    closure = _closure(proj["dependencies"])
    assert "tensorflow" not in closure and "larq-compute-engine" in closure


def test_train_extra_check_asks_only_for_what_the_extra_installs():
    """Every module `ser-bnn train` checks for comes from a distribution the `train` extra declares
    (a module dropped from the extra but still checked would refuse every fresh install)."""
    from ser_bnn.cli import TRAIN_EXTRA_MODULES

    declared = {_name(r) for r in _project()["optional-dependencies"]["train"]}
    providers = metadata.packages_distributions()
    for module in TRAIN_EXTRA_MODULES:
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert dists & declared, f"{module} ({sorted(dists)}) is not in the train extra {sorted(declared)}"


@pytest.fixture(scope="module")
def runtime_site(tmp_path_factory) -> Path:
    return _runtime_site(tmp_path_factory.mktemp("runtime"))


def test_predict_runs_on_the_bundled_model_without_the_train_extra(runtime_site, emodb_dir):
    probe = _run(runtime_site, "--version")
    assert probe.returncode == 0, probe.stderr
    for mod in TRAIN_ONLY:  # the folder really lacks them
        r = subprocess.run([sys.executable, "-S", "-c", f"import {mod}"], capture_output=True, text=True,
                           env={"PYTHONPATH": str(runtime_site)})  # fmt: skip
        assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr, mod
    r = _run(runtime_site, "predict", str(emodb_dir / "wav" / "03a01Fa.wav"))
    assert r.returncode == 0, r.stderr
    labels = (ROOT / "ser_bnn" / "pretrained" / "bcrnn-emodb.labels.txt").read_text().split()
    row = [ln for ln in r.stdout.splitlines() if "03a01Fa.wav" in ln]
    assert row and any(lab in row[0] for lab in labels), r.stdout


@pytest.mark.parametrize("command", NEEDS_TRAIN)
def test_other_commands_name_the_missing_extra(runtime_site, command):
    r = _run(runtime_site, command, *NEEDS_TRAIN[command])
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ser-bnn {command}: error: needs the 'train' extra")
    assert "pip install 'ser-bnn[train]'" in lines[0] and "Traceback" not in r.stderr


@pytest.mark.skipif(
    os.environ.get("SER_BNN_VENV_TEST") != "1", reason="set SER_BNN_VENV_TEST=1 (pip, minutes)"
)
def test_fresh_venv_runtime_install(tmp_path, emodb_dir):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], capture_output=True, text=True
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    exe = str(venv / "bin" / "ser-bnn")
    r = subprocess.run(
        [exe, "predict", str(emodb_dir / "wav" / "03a01Fa.wav")], capture_output=True, text=True
    )
    assert r.returncode == 0 and "03a01Fa.wav" in r.stdout, r.stderr
    r = subprocess.run([exe, "train", "--dataset", "emodb"], capture_output=True, text=True)
    assert r.returncode == 2 and "pip install 'ser-bnn[train]'" in r.stderr
