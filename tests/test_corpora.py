"""Emo-DB reader on the real corpus, data-dir resolution, and one-line errors for bad folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from ser_bnn.data.corpora import Corpus, Utterance, load_corpus, summary_table
from ser_bnn.data.corpora.emodb import LABELS, load_emodb, official_checksums, parse_name
from ser_bnn.errors import ConfigError, DataError

README_LABEL_COUNTS = {"anger": 127, "boredom": 81, "disgust": 46, "fear": 69, "happiness": 71,
                       "sadness": 62, "neutral": 79}
README_SPEAKER_COUNTS = {"03": 49, "08": 58, "09": 43, "10": 38, "11": 55, "12": 35, "13": 61, "14": 69,
                         "15": 56, "16": 71}


def _subset(emodb_dir: Path, dest: Path, names: list[str]) -> Path:
    """A partial Emo-DB made of symlinks to the real (read-only) files."""
    (dest / "wav").mkdir(parents=True)
    for n in names:
        (dest / "wav" / n).symlink_to(emodb_dir / "wav" / n)
    return dest


def test_full_corpus_counts(emodb):
    assert emodb.name == "emodb"
    assert len(emodb) == 535
    assert emodb.speakers() == tuple(sorted(README_SPEAKER_COUNTS))
    assert emodb.counts() == README_LABEL_COUNTS
    assert {s: len(u) for s, u in emodb.by_speaker().items()} == README_SPEAKER_COUNTS
    assert emodb.labels == ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral")
    assert list(emodb.counts()) == list(emodb.labels)


def test_fields_parsed_from_file_name(emodb):
    u = next(u for u in emodb.utterances if u.id == "03a01Fa")
    assert u == Utterance(id="03a01Fa", path=u.path, label="happiness", speaker="03", text="a01")
    assert u.path.name == "03a01Fa.wav" and u.path.is_file()
    w = next(u for u in emodb.utterances if u.id == "16b10Wb")
    assert (w.label, w.speaker, w.text) == ("anger", "16", "b10")
    assert emodb.label_index("neutral") == 6
    with pytest.raises(DataError, match="not one of"):
        emodb.label_index("joy")


def test_ids_unique_and_sorted(emodb):
    ids = [u.id for u in emodb.utterances]
    assert ids == sorted(ids) and len(set(ids)) == 535


def test_checksums_of_real_corpus(emodb_dir):
    assert len(official_checksums()) == 535
    corpus = load_emodb(emodb_dir, verify_checksums=True)
    assert len(corpus) == 535


def test_summary_table(emodb):
    table = summary_table(emodb)
    lines = table.splitlines()
    assert "535 utterances, 10 speakers, 24.78 min" in lines[1]  # README: 24.78 min in all
    anger = next(line for line in lines if line.startswith("anger"))
    assert anger.split()[:3] == ["anger", "127", "23.7%"]
    assert "03:49" in lines[-1] and "16:71" in lines[-1]


def test_point_at_wav_folder(emodb_dir):
    corpus = load_emodb(emodb_dir / "wav")
    assert len(corpus) == 535 and corpus.root == emodb_dir


def test_subset_needs_strict_false(emodb_dir, tmp_path):
    names = ["03a01Fa.wav", "08a01Na.wav", "16b10Wb.wav"]
    root = _subset(emodb_dir, tmp_path / "emodb", names)
    with pytest.raises(DataError, match=r"not the complete Emo-DB.*532 missing") as info:
        load_emodb(root)
    assert "\n" not in str(info.value)
    corpus = load_emodb(root, strict=False, verify_checksums=True)
    assert [u.id for u in corpus.utterances] == ["03a01Fa", "08a01Na", "16b10Wb"]
    assert corpus.speakers() == ("03", "08", "16")
    assert corpus.counts() == dict.fromkeys(LABELS, 0) | {"happiness": 1, "neutral": 1, "anger": 1}


def test_unparsable_names_are_listed(emodb_dir, tmp_path):
    root = _subset(emodb_dir, tmp_path / "emodb", ["03a01Fa.wav", "03a01Nc.wav"])
    (root / "wav" / "03a01Fa copy.wav").symlink_to(emodb_dir / "wav" / "03a01Fa.wav")
    (root / "wav" / "99a01Fa.wav").symlink_to(emodb_dir / "wav" / "03a01Fa.wav")  # no speaker 99
    (root / "wav" / "03a01Xa.wav").symlink_to(emodb_dir / "wav" / "03a01Fa.wav")  # no emotion X
    (root / "wav" / "notes.txt").write_text("not a wav")
    (root / "wav" / ".DS_Store").write_bytes(b"\0")  # hidden files are ignored
    with pytest.raises(DataError) as info:
        load_emodb(root, strict=False)
    msg = str(info.value)
    assert "4 file name(s)" in msg and "\n" not in msg
    for bad in ("03a01Fa copy.wav", "99a01Fa.wav", "03a01Xa.wav", "notes.txt"):
        assert bad in msg


def test_extra_file_in_full_corpus(emodb_dir, tmp_path):
    root = _subset(emodb_dir, tmp_path / "emodb", sorted(official_checksums()))
    assert len(load_emodb(root)) == 535
    (root / "wav" / "03a01Fz.wav").symlink_to(emodb_dir / "wav" / "03a01Fa.wav")
    with pytest.raises(DataError, match=r"1 not in the release \(03a01Fz.wav\)"):
        load_emodb(root)
    assert len(load_emodb(root, strict=False)) == 536


def test_checksum_mismatch_named(emodb_dir, tmp_path):
    root = _subset(emodb_dir, tmp_path / "emodb", ["03a01Nc.wav"])
    data = bytearray((emodb_dir / "wav" / "03a01Fa.wav").read_bytes())
    data[1000] ^= 0xFF
    (root / "wav" / "03a01Fa.wav").write_bytes(bytes(data))
    assert len(load_emodb(root, strict=False)) == 2
    with pytest.raises(DataError, match=r"1 Emo-DB file\(s\) fail the SHA256 check: 03a01Fa.wav$"):
        load_emodb(root, strict=False, verify_checksums=True)


def test_missing_and_empty_dirs(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_corpus("emodb", tmp_path / "nowhere")
    with pytest.raises(DataError, match="no wav/ folder"):
        load_corpus("emodb", tmp_path)
    (tmp_path / "wav").mkdir()
    with pytest.raises(DataError, match="is empty"):
        load_corpus("emodb", tmp_path)


def test_data_dir_from_env(emodb_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SER_BNN_DATA", str(emodb_dir))
    assert len(load_corpus("emodb")) == 535
    monkeypatch.setenv("SER_BNN_DATA", str(tmp_path / "none"))
    with pytest.raises(DataError, match="does not exist"):
        load_corpus("emodb")


def test_default_data_dir_relative_to_cwd_and_project(emodb_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("SER_BNN_DATA", raising=False)
    import ser_bnn

    project = Path(ser_bnn.__file__).resolve().parents[1]
    if not (project / ".." / "shared" / "data" / "emodb" / "wav").is_dir():
        pytest.skip("project is not checked out beside shared/")
    monkeypatch.chdir(project)
    assert load_corpus("emodb").root.resolve() == (project / ".." / "shared/data/emodb").resolve()
    monkeypatch.chdir(tmp_path)  # ../shared/data/emodb does not exist from here: project root is used
    assert len(load_corpus("emodb")) == 535
    # A local ../shared/data/emodb (seen from the working directory) wins over the project's.
    local = _subset(emodb_dir, tmp_path / "shared" / "data" / "emodb", ["03a01Fa.wav"])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert load_corpus("emodb", strict=False).root == local.resolve()


def test_no_default_for_other_datasets(monkeypatch):
    monkeypatch.delenv("SER_BNN_DATA", raising=False)
    with pytest.raises(DataError, match="no data directory for 'iemocap'"):
        load_corpus("iemocap")


def test_unknown_dataset_and_option(emodb_dir):
    with pytest.raises(ConfigError, match="unknown dataset 'ravdess'"):
        load_corpus("ravdess", emodb_dir)
    with pytest.raises(ConfigError, match="emodb: .*classes"):
        load_corpus("emodb", emodb_dir, classes=4)


def test_parse_name():
    assert parse_name("03a01Fa.wav") == {"speaker": "03", "text": "a01", "letter": "F", "version": "a"}
    for bad in ("03a01Fa.WAV", "3a01Fa.wav", "03c01Fa.wav", "03a01Fa.mp3", "17a01Fa.wav"):
        assert parse_name(bad) is None


def test_corpus_helpers_order():
    utts = [Utterance(id=str(i), path=Path(f"{i}.wav"), label=lab, speaker=spk)
            for i, (lab, spk) in enumerate([("b", "s2"), ("a", "s1"), ("b", "s1")])]
    c = Corpus(name="x", root=Path("."), utterances=utts, labels=("b", "a", "c"))
    assert c.counts() == {"b": 2, "a": 1, "c": 0}
    assert [u.id for u in c.by_speaker()["s1"]] == ["1", "2"]
    assert list(c.by_speaker()) == ["s1", "s2"]


def test_shipped_checksums_match_shared_list(emodb_dir):
    shipped = official_checksums()
    shared = {}
    for line in (emodb_dir / "SHA256SUMS.wav.txt").read_text().splitlines():
        digest, name = line.split()
        shared[name] = digest
    assert shipped == shared
