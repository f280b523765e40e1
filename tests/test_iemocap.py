"""IEMOCAP reader on a miniature release built in tmp_path (real layout and label format)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import quiet_load
from iemocap_fixture import build_iemocap

from ser_bnn.data.audio import load_audio
from ser_bnn.data.corpora.iemocap import LABELS_4, LABELS_5, load_iemocap, parse_label_file
from ser_bnn.errors import ConfigError, DataError


def _load(path, **kw):
    return quiet_load("iemocap", path, **kw)


def test_five_class_improvised(iemocap_release):
    path, expected = iemocap_release
    corpus = _load(path)
    assert corpus.name == "iemocap" and corpus.labels == LABELS_5
    got = {u.id: u.label for u in corpus.utterances}
    assert got == expected
    assert not any("script" in u.id for u in corpus.utterances)
    for u in corpus.utterances:
        turn = u.id.rsplit("_", 1)[1]
        assert u.session == u.id[:5] and u.speaker == u.id[:5] + turn[0]
        assert u.path.is_file() and u.path.parent.name == u.id.rsplit("_", 1)[0]
        assert u.text.startswith("Sentence ")
    assert corpus.speakers() == tuple(f"Ses0{n}{g}" for n in range(1, 6) for g in "FM")
    assert set(corpus.counts()) == set(LABELS_5) and all(corpus.counts().values())


def test_audio_of_fixture_loads(iemocap_release):
    path, _ = iemocap_release
    u = _load(path).utterances[0]
    wave = load_audio(u.path)
    assert wave.shape == (16000,) and np.abs(wave).max() == pytest.approx(0.3, abs=1e-3)


def test_parent_folder_accepted_and_via_load_corpus(iemocap_release):
    path, expected = iemocap_release
    corpus = quiet_load("iemocap", path.parent)
    assert corpus.root == path and len(corpus) == len(expected)


def test_count_check_warns_or_raises_for_full_release(iemocap_release):
    path, expected = iemocap_release
    with pytest.warns(UserWarning, match=rf"{len(expected)} improvised 5-class utterances, .* 2837"):
        load_iemocap(path)
    with pytest.raises(DataError, match="2837"):
        load_iemocap(path, strict=True)


def test_no_count_check_for_partial_release(tmp_path):
    build_iemocap(tmp_path, sessions=(1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corpus = load_iemocap(tmp_path / "IEMOCAP_full_release", strict=True)
    assert {u.session for u in corpus.utterances} == {"Ses01", "Ses02"}


def test_four_class_and_excited(iemocap_release):
    path, expected = iemocap_release
    four = _load(path, classes=4)
    assert four.labels == LABELS_4
    assert {u.id for u in four.utterances} == {k for k, v in expected.items() if v != "frustration"}
    merged = _load(path, classes=4, merge_excited=True)
    exc = {u.id for u in merged.utterances} - {u.id for u in four.utterances}
    assert exc and all(u.label == "happiness" for u in merged.utterances if u.id in exc)
    assert all("F006" in e for e in exc)  # the fixture's exc turn
    with pytest.raises(ConfigError, match="4 or 5"):
        load_iemocap(path, classes=6)


def test_scripted_included_on_request(iemocap_release):
    path, expected = iemocap_release
    both = _load(path, improvised_only=False)
    scripted = [u for u in both.utterances if "script" in u.id]
    assert len(scripted) == 5 * 3 and len(both) == len(expected) + 15


def test_label_file_parser_skips_annotator_lines(iemocap_release):
    path, _ = iemocap_release
    pairs = parse_label_file(path / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt")
    assert pairs[:4] == [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M001", "hap"),
                         ("Ses01F_impro01_F002", "ang"), ("Ses01F_impro01_M003", "xxx")]


def test_missing_wav_named(tmp_path):
    build_iemocap(tmp_path, sessions=(3,), drop_wav="Ses03F_impro01_F002")
    wav = "Session3/sentences/wav/Ses03F_impro01/Ses03F_impro01_F002.wav"
    pattern = rf"1 labelled utterance\(s\) without a wav: {wav}$"
    with pytest.raises(DataError, match=pattern):
        load_iemocap(tmp_path)


def test_missing_wav_of_dropped_label_is_fine(tmp_path):
    build_iemocap(tmp_path, sessions=(3,), drop_wav="Ses03F_impro01_M003")  # an xxx utterance
    assert len(load_iemocap(tmp_path)) > 0


def test_malformed_label_line(tmp_path):
    build_iemocap(tmp_path, sessions=(1,))
    f = tmp_path / "IEMOCAP_full_release" / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    f.write_text(f.read_text() + "[12.5 - oops]\tSes01F_impro01_F099\tneu\t[1, 2, 3]\n")
    with pytest.raises(DataError, match=r"Ses01F_impro01.txt:\d+: malformed label line"):
        load_iemocap(tmp_path)


def test_not_a_release(tmp_path):
    with pytest.raises(DataError, match="no Session1..Session5"):
        load_iemocap(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_iemocap(tmp_path / "missing")
    (tmp_path / "Session1").mkdir()
    with pytest.raises(DataError, match="no dialog/EmoEvaluation"):
        load_iemocap(tmp_path)
