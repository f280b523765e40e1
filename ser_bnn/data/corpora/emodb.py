"""Berlin Emo-DB (Burkhardt et al., Interspeech 2005): 535 utterances, 10 speakers, 7 emotions.

The corpus directory is the authors' download folder, holding `wav/`. Labels, speaker and text
come from the file names: `03a01Fa.wav` is speaker 03, text a01, emotion letter F, version a.

Validation. With `strict=True` (the default) the folder must hold exactly the 535 files of the
official release (names from the SHA256 list shipped in this package), so the README counts
(W127 L81 E46 A69 F71 T62 N79; 10 speakers) hold; a missing or extra file is an error that
names it. `strict=False` accepts any subset of well-formed names (tests, quick experiments).
`verify_checksums=True` also hashes every file against the shipped list.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ser_bnn.data.corpora.base import Corpus, Utterance, few
from ser_bnn.errors import DataError

LETTERS: dict[str, str] = {
    "W": "anger",  # Ärger
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}
LABELS: tuple[str, ...] = tuple(LETTERS.values())
SPEAKER_GENDER: dict[str, str] = {
    "03": "m",
    "10": "m",
    "11": "m",
    "12": "m",
    "15": "m",
    "08": "f",
    "09": "f",
    "13": "f",
    "14": "f",
    "16": "f",
}
# the paper's speaker-independent split (`--split fixed`)
FIXED_TRAIN_SPEAKERS: tuple[str, ...] = ("03", "08", "09", "10", "11", "13")
FIXED_TEST_SPEAKERS: tuple[str, ...] = ("12", "14", "15", "16")
EXPECTED_TOTAL = 535
EXPECTED_LABEL_COUNTS: dict[str, int] = {
    "anger": 127,
    "boredom": 81,
    "disgust": 46,
    "fear": 69,
    "happiness": 71,
    "sadness": 62,
    "neutral": 79,
}
EXPECTED_SPEAKER_COUNTS: dict[str, int] = {
    "03": 49,
    "08": 58,
    "09": 43,
    "10": 38,
    "11": 55,
    "12": 35,
    "13": 61,
    "14": 69,
    "15": 56,
    "16": 71,
}
NAME_RE = re.compile(r"^(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<letter>[WLEAFTN])(?P<version>[a-z])\.wav$")


@lru_cache(maxsize=1)
def official_checksums() -> dict[str, str]:
    """{file name: sha256} of the 535 wavs of the official release (shipped with the package)."""
    text = resources.files("ser_bnn.data.corpora").joinpath("emodb_sha256.txt").read_text()
    sums: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest
    return sums


def parse_name(name: str) -> dict[str, str] | None:
    """Fields of an Emo-DB file name, or None if it does not follow the scheme."""
    m = NAME_RE.match(name)
    if not m or m["speaker"] not in SPEAKER_GENDER:
        return None
    return m.groupdict()


def wav_dir(root: Path) -> Path:
    """`root/wav`, or `root` itself when the user pointed at the wav folder."""
    root = Path(root)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise DataError(f"Emo-DB directory {root} {what}")
    if (root / "wav").is_dir():
        return root / "wav"
    if root.name == "wav" and any(root.glob("*.wav")):
        return root
    raise DataError(f"{root} holds no wav/ folder (expected Emo-DB's download folder)")


def load_emodb(root: str | Path, strict: bool = True, verify_checksums: bool = False) -> Corpus:
    """Read Emo-DB from `root` (see module docstring for `strict` and `verify_checksums`)."""
    root = Path(root)
    wdir = wav_dir(root)
    if wdir == root:  # pointed at wav/ itself
        root = root.parent
    names = sorted(p.name for p in wdir.iterdir() if not p.name.startswith("."))
    if not names:
        raise DataError(f"{wdir} is empty: no Emo-DB wav files")
    bad = [n for n in names if parse_name(n) is None]
    if bad:
        raise DataError(
            f"{wdir}: {len(bad)} file name(s) not in Emo-DB's scheme (e.g. 03a01Fa.wav): {few(bad)}"
        )
    if strict:
        official = set(official_checksums())
        missing = sorted(official - set(names))
        extra = sorted(set(names) - official)
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"{len(missing)} missing ({few(missing)})")
            if extra:
                parts.append(f"{len(extra)} not in the release ({few(extra)})")
            raise DataError(
                f"{wdir} is not the complete Emo-DB (535 files): {'; '.join(parts)}; "
                "use strict=False for a partial copy"
            )
    utts = []
    for n in names:
        f = parse_name(n)
        assert f is not None
        utts.append(
            Utterance(
                id=n[:-4], path=wdir / n, label=LETTERS[f["letter"]], speaker=f["speaker"], text=f["text"]
            )
        )
    corpus = Corpus(name="emodb", root=root, utterances=utts, labels=LABELS)
    if strict:
        _check_counts(corpus)
    if verify_checksums:
        verify_emodb_checksums(corpus.utterances)
    return corpus


def _check_counts(corpus: Corpus) -> None:
    if len(corpus) != EXPECTED_TOTAL:
        raise DataError(f"Emo-DB has {len(corpus)} utterances, expected {EXPECTED_TOTAL}")
    if corpus.counts() != EXPECTED_LABEL_COUNTS:
        raise DataError(f"Emo-DB class counts {corpus.counts()} differ from {EXPECTED_LABEL_COUNTS}")
    per_speaker = {s: len(u) for s, u in corpus.by_speaker().items()}
    if per_speaker != EXPECTED_SPEAKER_COUNTS:
        raise DataError(f"Emo-DB speaker counts {per_speaker} differ from {EXPECTED_SPEAKER_COUNTS}")


def checksum_problems(files: list[Path]) -> list[str]:
    """File names whose sha256 is not the official one (or that are not in the release at all)."""
    official = official_checksums()
    bad = []
    for p in files:
        expected = official.get(p.name)
        if expected is None or sha256_file(p) != expected:
            bad.append(p.name)
    return bad


def verify_emodb_checksums(utterances: list[Utterance]) -> None:
    """Raise DataError naming the files whose content differs from the official release."""
    bad = checksum_problems([u.path for u in utterances])
    if bad:
        raise DataError(f"{len(bad)} Emo-DB file(s) fail the SHA256 check: {few(bad)}")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
