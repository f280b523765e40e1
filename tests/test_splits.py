"""Speaker-independent folds: no speaker on two sides, LOSO test sets partition the corpus."""

from __future__ import annotations

from collections import Counter

import pytest
import soundfile as sf
from conftest import quiet_load

from ser_bnn.data.corpora import load_corpus
from ser_bnn.data.corpora.emodb import SPEAKER_GENDER
from ser_bnn.data.splits import EMODB_FIXED_TEST, EMODB_FIXED_TRAIN, Fold, make_folds
from ser_bnn.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def iemocap(iemocap_release):
    return quiet_load("iemocap", iemocap_release[0])


def _speakers(utts) -> set[str]:
    return {u.speaker for u in utts}


def _check_disjoint(fold: Fold, corpus) -> None:
    tr, dv, te = _speakers(fold.train), _speakers(fold.dev), _speakers(fold.test)
    assert not (tr & dv) and not (tr & te) and not (dv & te), fold.name
    assert fold.test_speakers == tuple(sorted(te))
    ids = [u.id for u in fold.train + fold.dev + fold.test]
    assert len(ids) == len(set(ids)), fold.name  # no utterance twice
    assert fold.train and fold.test


@pytest.mark.parametrize("dev_speakers", [0, 1, 2, 3])
@pytest.mark.parametrize("split", ["fixed", "loso", "loso:0", "loso:14"])
def test_emodb_folds_speaker_disjoint(emodb, split, dev_speakers):
    folds = make_folds(emodb, split, dev_speakers=dev_speakers, seed=7)
    for fold in folds:
        _check_disjoint(fold, emodb)
        assert len(_speakers(fold.dev)) == dev_speakers
        assert len(fold.train) + len(fold.dev) + len(fold.test) == 535  # every utterance used once


def test_emodb_fixed_split(emodb):
    (fold,) = make_folds(emodb, "fixed", dev_speakers=0)
    assert fold.name == "fixed" and fold.dev == []
    assert fold.test_speakers == EMODB_FIXED_TEST == ("12", "14", "15", "16")
    assert _speakers(fold.train) == set(EMODB_FIXED_TRAIN)
    assert len(fold.test) == 35 + 69 + 56 + 71


def test_emodb_loso_partitions_corpus(emodb):
    folds = make_folds(emodb, "loso", dev_speakers=1, seed=0)
    assert len(folds) == 10
    assert [f.test_speakers for f in folds] == [(s,) for s in emodb.speakers()]
    assert [f.name for f in folds] == [f"loso-{s}" for s in emodb.speakers()]
    test_ids = Counter(u.id for f in folds for u in f.test)
    assert set(test_ids) == {u.id for u in emodb.utterances} and set(test_ids.values()) == {1}


def test_loso_k_by_name_or_index(emodb):
    (by_name,) = make_folds(emodb, "loso:03")
    assert by_name.test_speakers == ("03",)
    (by_index,) = make_folds(emodb, "loso:3")  # 0-based index into sorted speakers: 03 08 09 [10]
    assert by_index.test_speakers == ("10",)
    (last,) = make_folds(emodb, "loso:9")
    assert last.test_speakers == ("16",)
    (name_wins,) = make_folds(emodb, "loso:10")  # a speaker name takes precedence over an index
    assert name_wins.test_speakers == ("10",)
    for bad in ("loso:42", "loso:17", "loso:x", "loso:"):
        with pytest.raises(ConfigError, match="neither a group"):
            make_folds(emodb, bad)


def test_dev_with_two_speakers_has_both_genders(emodb):
    for seed in range(20):
        for split in ("fixed", "loso"):
            for fold in make_folds(emodb, split, dev_speakers=2, seed=seed):
                assert {SPEAKER_GENDER[s] for s in fold.dev_speakers} == {"m", "f"}, (seed, fold.name)


def test_dev_choice_deterministic_and_seed_dependent(emodb):
    def picks(seed):
        return [f.dev_speakers for f in make_folds(emodb, "loso", dev_speakers=1, seed=seed)]

    assert picks(0) == picks(0)
    assert len({tuple(picks(s)) for s in range(6)}) > 1  # the seed matters
    first = picks(0)
    assert len(set(first)) > 1  # folds do not all pick the same dev speaker


def test_dev_speaker_errors(emodb):
    with pytest.raises(ConfigError, match="leaves no training speaker"):
        make_folds(emodb, "fixed", dev_speakers=6)
    with pytest.raises(ConfigError, match=">= 0"):
        make_folds(emodb, "loso", dev_speakers=-1)


def test_unknown_split(emodb):
    choices = "choose one of fixed, loso, loso:K, manifest"
    with pytest.raises(ConfigError, match=rf"unknown split 'random': {choices}$"):
        make_folds(emodb, "random")
    with pytest.raises(ConfigError, match="needs a split column"):
        make_folds(emodb, "manifest")


def test_iemocap_loso_is_leave_one_session_out(iemocap):
    folds = make_folds(iemocap, "loso", dev_speakers=2, seed=3)
    assert [f.name for f in folds] == [f"loso-Ses0{n}" for n in range(1, 6)]
    for n, fold in enumerate(folds, 1):
        _check_disjoint(fold, iemocap)
        assert fold.test_speakers == (f"Ses0{n}F", f"Ses0{n}M")  # both actors of the session held out
        assert {s[-1] for s in fold.dev_speakers} == {"F", "M"}
        assert not any(s.startswith(f"Ses0{n}") for s in fold.dev_speakers + fold.train_speakers)
    test_ids = Counter(u.id for f in folds for u in f.test)
    assert set(test_ids) == {u.id for u in iemocap.utterances} and set(test_ids.values()) == {1}
    (one,) = make_folds(iemocap, "loso:Ses04")
    assert one.test_speakers == ("Ses04F", "Ses04M")


def test_fixed_only_for_emodb(iemocap):
    with pytest.raises(ConfigError, match="emodb only"):
        make_folds(iemocap, "fixed")


def test_subset_corpus_folds(emodb_dir, tmp_path):
    (tmp_path / "wav").mkdir()
    for n in ["03a01Fa", "03a01Nc", "08a01Na", "12a01Wc", "16b10Wb"]:
        (tmp_path / "wav" / f"{n}.wav").symlink_to(emodb_dir / "wav" / f"{n}.wav")
    corpus = load_corpus("emodb", tmp_path, strict=False)
    folds = make_folds(corpus, "loso", dev_speakers=1)
    assert len(folds) == 4
    for f in folds:
        _check_disjoint(f, corpus)
    (fixed,) = make_folds(corpus, "fixed", dev_speakers=1)
    assert fixed.test_speakers == ("12", "16")
    one = load_corpus("emodb", tmp_path, strict=False)
    one.utterances = [u for u in one.utterances if u.speaker == "03"]
    with pytest.raises(DataError, match="at least 2"):
        make_folds(one, "loso")
    with pytest.raises(DataError, match="no test utterances"):
        make_folds(one, "fixed", dev_speakers=0)


def _manifest(tmp_path, emodb_dir, rows):
    (tmp_path / "a").mkdir(exist_ok=True)
    lines = ["path,label,speaker,split"]
    for name, label, spk, split in rows:
        data, sr = sf.read(emodb_dir / "wav" / f"{name}.wav", dtype="int16")
        sf.write(tmp_path / "a" / f"{name}.wav", data[:4000], sr, subtype="PCM_16")
        lines.append(f"a/{name}.wav,{label},{spk},{split}")
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    return load_corpus("csv", tmp_path)


ROWS = [("03a01Fa", "hap", "s03", "train"), ("03a01Nc", "neu", "s03", "train"),
        ("08a01Na", "neu", "s08", "train"), ("09a01Fa", "hap", "s09", "dev"),
        ("16b10Wb", "ang", "s16", "test"), ("12a01Wc", "ang", "s12", "test")]


def test_manifest_split(emodb_dir, tmp_path):
    corpus = _manifest(tmp_path, emodb_dir, ROWS)
    (fold,) = make_folds(corpus, "manifest", dev_speakers=1)
    _check_disjoint(fold, corpus)
    assert [u.id for u in fold.dev] == ["a/09a01Fa.wav"]
    assert fold.test_speakers == ("s12", "s16") and _speakers(fold.train) == {"s03", "s08"}
    # loso works on a manifest corpus too (groups = speakers)
    assert len(make_folds(corpus, "loso", dev_speakers=1)) == 5


def test_manifest_without_dev_rows_carves_dev(emodb_dir, tmp_path):
    rows = [r if r[3] != "dev" else (*r[:3], "train") for r in ROWS]
    corpus = _manifest(tmp_path, emodb_dir, rows)
    (fold,) = make_folds(corpus, "manifest", dev_speakers=1, seed=1)
    _check_disjoint(fold, corpus)
    assert len(fold.dev_speakers) == 1 and fold.dev_speakers[0] in {"s03", "s08", "s09"}


def test_manifest_speaker_on_two_sides_rejected(emodb_dir, tmp_path):
    rows = [*ROWS[:-1], ("12a01Wc", "ang", "s03", "test")]
    corpus = _manifest(tmp_path, emodb_dir, rows)
    with pytest.raises(DataError, match="s03 in both train and test"):
        make_folds(corpus, "manifest")
