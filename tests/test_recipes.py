"""Recipes as data (`ser_bnn.recipes`): every preset and ablation variant is a named `Config` difference;
each one validates and builds its model, the ablation script runs exactly the config the registry
names, and retired variants are refused by name."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from ser_bnn.cli import build_parser
from ser_bnn.config import Config
from ser_bnn.errors import ConfigError
from ser_bnn.recipes import PRESETS, RETIRED_VARIANTS, SUFFIXES, VARIANTS, apply, preset, variant_config

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")
TEACHER = {"runs": "runs/ablation", "epochs": 12, "seed": ""}


def _ablation():  # noqa: ANN202 - the benchmarks/ablation.py module
    if "ablation_script" not in sys.modules:
        spec = importlib.util.spec_from_file_location("ablation_script", ROOT / "benchmarks" / "ablation.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["ablation_script"] = module
    return sys.modules["ablation_script"]


def _train_config(flags: list[str]) -> Config:
    from ser_bnn.commands.train import make_config

    return make_config(build_parser().parse_args(["train", *flags]), LABELS)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_validates_and_builds_its_model(name: str) -> None:
    """A dry run: the variant's config validates and its full-size model builds (no training)."""
    from ser_bnn.nn.models import build_model

    cfg = variant_config(name, LABELS, **TEACHER)
    model = build_model(cfg)
    assert model.output_shape == (None, len(LABELS)) and model.name == cfg.model.name
    assert cfg.train.dev_speakers == 2  # the ablation protocol
    for suffix in SUFFIXES:
        assert variant_config(name + suffix, LABELS, **TEACHER).train.spec_augment


@pytest.mark.parametrize("name", [*VARIANTS, *(n + s for n in ("default", "crnn", "kd") for s in SUFFIXES)])
def test_ablation_flags_train_the_registered_config(name: str) -> None:
    """benchmarks/ablation.py runs `ser-bnn train` with flags made from the registry: they give exactly
    the variant's config."""
    ablation = _ablation()
    flags = [f.format(**TEACHER) for f in ablation.variant_flags(name)] + ablation.protocol_flags()
    assert _train_config(flags) == variant_config(name, LABELS, **TEACHER)


def test_recorded_flags_of_live_variants_are_still_produced() -> None:
    """A recorded row of a registered variant was trained with the flags the registry makes now (rows
    recorded before the ablation added the reference flags list fewer of them)."""
    ablation = _ablation()
    rows = json.loads((ROOT / "benchmarks" / "results" / "ablation.json").read_text())
    checked = 0
    for key, row in rows.items():
        name = key.split(" ")[0].rsplit("-e", 1)[0]
        if name not in VARIANTS or "--teacher" in row["flags"]:
            continue
        made = ablation.variant_flags(name)
        assert made[: len(row["flags"])] == row["flags"], key
        checked += 1
    assert checked >= 20


def test_retired_variants_are_refused_by_name_and_their_rows_stay() -> None:
    rows = json.loads((ROOT / "benchmarks" / "results" / "ablation.json").read_text())
    for name, (flags, commit) in RETIRED_VARIANTS.items():
        assert name not in VARIANTS
        with pytest.raises(ConfigError, match=f"{name}.*retired.*{commit}"):
            variant_config(name)
        recorded = [r for k, r in rows.items() if k.startswith(f"{name}-") or k.startswith(f"{name}+")]
        assert recorded and all(r.get("last_commit") == commit for r in recorded), name
        assert all(f in " ".join(recorded[0]["flags"]) for f in flags.split()), name
    with pytest.raises(ConfigError, match="unknown variant"):
        variant_config("nosuch")


def test_presets_are_differences_from_the_defaults() -> None:
    for name, recipe in PRESETS.items():
        for model in ("bcrnn", "crnn"):
            cfg = preset(name, model).validate()
            assert cfg == apply(Config(), {"model.name": model, **recipe.changes_for(model)})
    with pytest.raises(ConfigError, match="no such model field"):
        apply(Config(), {"model.lstm_scales": "split"})
    with pytest.raises(ConfigError, match="section"):
        apply(Config(), {"optimizer.lr": 1.0})


def test_committed_run_configs_still_load() -> None:
    """Every config.json committed with results (written before options were retired) loads."""
    paths = sorted((ROOT / "benchmarks" / "results").rglob("config.json"))
    assert len(paths) >= 5
    for p in paths:
        Config.load(p).validate()


def test_retired_options_are_not_train_flags() -> None:
    import contextlib
    import io

    from ser_bnn.config import RETIRED

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = out.getvalue()
    assert "--float-lstm" in text and "--binary-first-layer" in text and "--teacher" in text
    for _, flag in RETIRED.values():
        assert flag not in text, flag
    assert "--paper" not in text and "meanstd" not in text
