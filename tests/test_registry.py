"""The corpus registry: every registered corpus is a `--dataset` choice and reads under its name,
its reader options round-trip through config.json, and a run is reloaded as it was trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import quiet_load

from ser_bnn.cli import build_parser
from ser_bnn.commands.common import corpus_options
from ser_bnn.config import Config
from ser_bnn.data.corpora import CORPORA, corpus_kind
from ser_bnn.data.corpora.iemocap import LABELS_4
from ser_bnn.data.splits import make_folds
from ser_bnn.errors import ConfigError

LABELS = ("a", "b", "c", "d")


@pytest.fixture(scope="module")
def samples(emodb_dir: Path, iemocap_release, tmp_path_factory) -> dict[str, Path]:
    """{registered name: a small data directory of that kind}; a new corpus adds one here."""
    manifest = tmp_path_factory.mktemp("csv") / "manifest.csv"
    names = ("03a01Fa", "03a01Nc", "08a01Na", "16b10Wb")
    rows = [f"{emodb_dir / 'wav' / f'{n}.wav'},{n[5]},{n[:2]}" for n in names]
    manifest.write_text("path,label,speaker\n" + "\n".join(rows) + "\n")
    return {"emodb": emodb_dir, "iemocap": iemocap_release[0], "csv": manifest}


@pytest.mark.parametrize("command", ["prepare", "train"])
@pytest.mark.parametrize("name", list(CORPORA))
def test_every_registered_corpus_is_a_cli_choice(command: str, name: str) -> None:
    args = build_parser().parse_args([command, "--dataset", name])
    assert args.dataset == name
    assert corpus_options(args) == {o.key: o.default for o in corpus_kind(name).options}
    # every reader option has its flag, whichever corpus is chosen
    flags = [x for k in CORPORA.values() for o in k.options for x in (o.flag, str(o.default))]
    assert build_parser().parse_args([command, "--dataset", name, *flags]).dataset == name
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--dataset", name + "x"])
    assert info.value.code == 2


@pytest.mark.parametrize("name", list(CORPORA))
def test_registered_corpus_reads_under_its_name(name: str, samples: dict[str, Path]) -> None:
    assert name in samples, f"add a sample {name} corpus to the `samples` fixture"
    kind = corpus_kind(name)
    corpus = quiet_load(name, samples[name])
    assert corpus.name == kind.name == name and len(corpus) > 0
    assert all(kind.speaker_gender(s) in ("m", "f", None) for s in corpus.speakers())
    assert make_folds(corpus, kind.default_split, dev_speakers=1)
    if kind.fixed_split is None:
        with pytest.raises(ConfigError, match="split 'fixed' is defined for "):
            make_folds(corpus, "fixed")
    else:
        (fixed,) = make_folds(corpus, "fixed", dev_speakers=0)
        assert set(fixed.test_speakers) == set(kind.fixed_split[1])
    with pytest.raises(ConfigError, match=f"{name}: .*unexpected_option"):
        quiet_load(name, samples[name], unexpected_option=1)


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["--dataset", "emodb"], {}),
        (["--dataset", "iemocap"], {"classes": 5}),
        (["--dataset", "iemocap", "--iemocap-classes", "4"], {"classes": 4}),
        (["--dataset", "csv", "--iemocap-classes", "4"], {}),  # another corpus's flag is not saved
    ],
)
def test_options_round_trip_through_config_json(argv: list[str], options: dict, tmp_path: Path) -> None:
    from ser_bnn.commands.train import make_config

    cfg = make_config(build_parser().parse_args(["train", *argv]), LABELS)
    assert cfg.corpus_options == options
    cfg.save(tmp_path / "config.json")
    back = Config.load(tmp_path / "config.json")
    assert back == cfg and back.corpus_options == options


def test_tuple_options_and_configs_saved_before_options(tmp_path: Path) -> None:
    cfg = Config(dataset="csv", corpus_options={"labels": ("x", "y")})
    cfg.save(tmp_path / "config.json")
    assert Config.load(tmp_path / "config.json") == cfg  # JSON lists come back as tuples
    old = json.loads(Config(dataset="iemocap", labels=LABELS).to_json())
    del old["corpus_options"]
    assert Config.from_dict(old).corpus_options == {"classes": 4}  # implied by the 4 labels
    assert Config.from_dict(old | {"dataset": "emodb"}).corpus_options == {}
    with pytest.raises(ConfigError, match="corpus_options must be a JSON object"):
        Config.from_dict({"corpus_options": ["classes", 4]})


@pytest.mark.slow
def test_iemocap_4_class_run_reloads_with_4_classes(
    iemocap_release, tiny_config: Path, feature_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ser_bnn.training.evaluate as evaluate
    from ser_bnn.cli import main
    from ser_bnn.training.evaluate import evaluate_run

    out = tmp_path / "run"
    argv = ["train", "--dataset", "iemocap", "--iemocap-classes", "4", "--data-dir", str(iemocap_release[0])]
    argv += ["--split", "loso:0", "--epochs", "1", "--config", str(tiny_config), "--out", str(out)]
    assert main([*argv, "--cache-dir", str(feature_cache), "--no-progress", "--batch-size", "40"]) == 0
    cfg = Config.load(out / "config.json")
    assert cfg.corpus_options == {"classes": 4} and cfg.labels == LABELS_4 and cfg.model.n_classes == 4

    calls = []
    load = evaluate.load_corpus  # the reader evaluation calls (imported by name in its module)
    monkeypatch.setattr(evaluate, "load_corpus", lambda *a, **kw: calls.append(kw) or load(*a, **kw))
    data = str(iemocap_release[0])
    metrics = evaluate_run(out, data, cache_dir=feature_cache, progress=False)
    assert calls == [{"classes": 4}] and metrics["labels"] == list(LABELS_4)
    # a config.json written before the options were saved reloads the same corpus
    saved = json.loads((out / "config.json").read_text())
    del saved["corpus_options"]
    (out / "config.json").write_text(json.dumps(saved))
    assert evaluate_run(out, data, cache_dir=feature_cache, progress=False)["labels"] == list(LABELS_4)
    assert calls[-1] == {"classes": 4}
