"""CSV manifest corpora: short wavs cut from Emo-DB into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from ser_bnn.data.corpora import load_corpus
from ser_bnn.data.corpora.manifest import load_manifest
from ser_bnn.errors import DataError

SOURCES = [("03a01Fa", "happy", "spk03", "train"), ("03a01Wa", "angry", "spk03", "train"),
           ("08a01Na", "neutral", "spk08", "dev"), ("16b10Wb", "angry", "spk16", "test"),
           ("16a01Fc", "happy", "spk16", "test")]


@pytest.fixture()
def clips(emodb_dir, tmp_path) -> Path:
    """tmp_path/audio/<id>.wav: the first 0.5 s of real Emo-DB files."""
    (tmp_path / "audio").mkdir()
    for name, *_ in SOURCES:
        data, sr = sf.read(emodb_dir / "wav" / f"{name}.wav", dtype="int16")
        sf.write(tmp_path / "audio" / f"{name}.wav", data[: sr // 2], sr, subtype="PCM_16")
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _csv(rows, header="path,label,speaker,split") -> str:
    return header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"


def test_manifest_with_split(clips):
    rows = [(f"audio/{n}.wav", lab, spk, split) for n, lab, spk, split in SOURCES]
    csv_path = _write(clips / "manifest.csv", _csv(rows))
    corpus = load_manifest(csv_path)
    assert corpus.name == "csv" and corpus.root == clips
    assert corpus.labels == ("angry", "happy", "neutral")  # sorted unique
    assert [u.id for u in corpus.utterances] == [r[0] for r in rows]
    assert [u.split for u in corpus.utterances] == [r[3] for r in rows]
    assert corpus.utterances[0].path == clips / "audio" / "03a01Fa.wav"
    assert corpus.counts() == {"angry": 2, "happy": 2, "neutral": 1}
    assert corpus.speakers() == ("spk03", "spk08", "spk16")
    # a directory holding manifest.csv works too, through load_corpus
    assert len(load_corpus("csv", clips)) == 5


def test_labels_order_given_and_absolute_paths(clips, tmp_path):
    rows = [(str(clips / "audio" / f"{n}.wav"), lab, spk) for n, lab, spk, _ in SOURCES]
    other = tmp_path / "elsewhere"
    other.mkdir()
    csv_path = _write(other / "m.csv", _csv(rows, "path,label,speaker"))
    corpus = load_manifest(csv_path, labels="neutral,happy,angry,sad")
    assert corpus.labels == ("neutral", "happy", "angry", "sad")
    assert corpus.counts()["sad"] == 0 and all(u.split == "" for u in corpus.utterances)
    given = ("happy", "angry", "neutral")
    assert load_corpus("csv", csv_path, labels=list(given)).labels == given
    with pytest.raises(DataError, match=r"m.csv row 3: label 'angry' is not one of happy, neutral"):
        load_manifest(csv_path, labels=("happy", "neutral"))


def test_bom_whitespace_extra_columns_and_blank_lines(clips):
    text = ("\ufeffpath , label,speaker,id,text\n"
            " audio/03a01Fa.wav , happy , spk03 , u1 , hallo\n"
            "\n"
            "audio/16b10Wb.wav,angry,spk16,u2,\n")
    corpus = load_manifest(_write(clips / "m.csv", text))
    assert [(u.id, u.label, u.speaker, u.text) for u in corpus.utterances] == [
        ("u1", "happy", "spk03", "hallo"), ("u2", "angry", "spk16", "")]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "empty manifest"),
        ("path,label,speaker\n", r"empty manifest \(no rows\)"),
        ("path,speaker\naudio/03a01Fa.wav,spk03\n", "missing column.* label"),
        ("file,label,who\naudio/03a01Fa.wav,happy,spk03\n", "missing column.* path, speaker"),
        ("path,label,speaker\naudio/03a01Fa.wav,happy,spk03\naudio/nope.wav,angry,spk03\n",
         r"row 3: audio file audio/nope.wav not found"),
        ("path,label,speaker\naudio/03a01Fa.wav,,spk03\n", "row 2: empty label"),
        ("path,label,speaker\naudio/03a01Fa.wav,happy\n", "row 2: empty speaker"),
        ("path,label,speaker,split\naudio/03a01Fa.wav,happy,spk03,train\naudio/03a01Wa.wav,angry,spk03,valid\n",
         r"row 3: split 'valid' is not one of train, dev, test"),
        ("path,label,speaker,split\naudio/03a01Fa.wav,happy,spk03,\n", r"row 2: split '' is not one of"),
        ("path,label,speaker\naudio/03a01Fa.wav,happy,spk03\naudio/03a01Fa.wav,happy,spk03\n",
         r"row 3: duplicate id 'audio/03a01Fa.wav'"),
    ],
)
def test_manifest_errors(clips, text, pattern):
    path = _write(clips / "bad.csv", text)
    with pytest.raises(DataError, match=pattern) as info:
        load_manifest(path)
    assert "\n" not in str(info.value)


def test_missing_manifest_and_bad_labels_option(clips):
    with pytest.raises(DataError, match="does not exist"):
        load_manifest(clips / "none.csv")
    with pytest.raises(DataError, match=r"manifest.csv does not exist"):
        load_manifest(clips)  # a directory without manifest.csv
    ok = _write(clips / "m.csv", "path,label,speaker\naudio/03a01Fa.wav,happy,spk03\n")
    with pytest.raises(DataError, match="listed twice"):
        load_manifest(ok, labels="happy,happy")
    with pytest.raises(DataError, match="empty label name"):
        load_manifest(ok, labels="happy,,sad")


def test_split_values_case_insensitive(clips):
    path = _write(clips / "m.csv", "path,label,speaker,split\naudio/03a01Fa.wav,happy,spk03, Train\n")
    assert load_manifest(path).utterances[0].split == "train"


def test_binary_file_as_manifest(clips):
    path = clips / "m.csv"
    path.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        load_manifest(path)
