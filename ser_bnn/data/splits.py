"""Speaker-independent train/dev/test folds: no speaker is ever on two sides of a fold.

Split names:
- `fixed`: the standard split of a corpus whose registry entry has one (`CorpusKind.fixed_split`):
  Emo-DB only; train speakers 03 08 09 10 11 13, test speakers 12 14 15 16.
- `loso`: leave one group out, one fold per group. The group is the session when every utterance
  has one (IEMOCAP: 5 folds, both actors of a session held out), else the speaker (Emo-DB: 10 folds).
- `loso:K`: only one of those folds. K is a group name first (`loso:03` = speaker 03 of Emo-DB,
  `loso:Ses01`), else a 0-based index into the sorted groups (`loso:0` = the first group).
- `manifest`: the `split` column of a CSV manifest (train/dev/test).

The dev set (model selection) is carved from the training speakers only, as whole speakers:
`dev_speakers` of them, chosen by a RNG seeded with (`seed`, fold name). With 2 or more dev speakers
and known genders (`CorpusKind.speaker_gender`: Emo-DB, IEMOCAP) the choice alternates genders so
dev has both. `dev_speakers=0` gives an empty dev set. For `manifest`, dev rows in the CSV are used
as they are; dev speakers are carved from train only if the CSV has no dev rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ser_bnn.data.corpora.base import Corpus, Utterance, few
from ser_bnn.data.corpora.emodb import FIXED_TEST_SPEAKERS, FIXED_TRAIN_SPEAKERS
from ser_bnn.data.corpora.registry import CORPORA, names_with
from ser_bnn.errors import ConfigError, DataError

EMODB_FIXED_TRAIN: tuple[str, ...] = FIXED_TRAIN_SPEAKERS
EMODB_FIXED_TEST: tuple[str, ...] = FIXED_TEST_SPEAKERS
SPLIT_NAMES = ("fixed", "loso", "loso:K", "manifest")


@dataclass(frozen=True)
class Fold:
    """One train/dev/test partition of a corpus."""

    name: str
    train: list[Utterance]
    dev: list[Utterance]
    test: list[Utterance]
    test_speakers: tuple[str, ...]

    @property
    def train_speakers(self) -> tuple[str, ...]:
        return tuple(sorted({u.speaker for u in self.train}))

    @property
    def dev_speakers(self) -> tuple[str, ...]:
        return tuple(sorted({u.speaker for u in self.dev}))


def make_folds(corpus: Corpus, split: str, dev_speakers: int = 1, seed: int = 0) -> list[Fold]:
    """The folds of `split` (see module docstring) for `corpus`."""
    split = split.strip()
    if dev_speakers < 0:
        raise ConfigError(f"dev_speakers must be >= 0, got {dev_speakers}")
    if split == "fixed":
        kind = CORPORA.get(corpus.name)
        if kind is None or kind.fixed_split is None:
            having = names_with(lambda k: k.fixed_split)
            raise ConfigError(f"split 'fixed' is defined for {having} only, not {corpus.name}: use loso")
        train_speakers, test_speakers = kind.fixed_split
        train = [u for u in corpus.utterances if u.speaker in train_speakers]
        test = [u for u in corpus.utterances if u.speaker in test_speakers]
        return [_fold(corpus, "fixed", train, test, dev_speakers, seed)]
    if split == "loso" or split.startswith("loso:"):
        return _loso(corpus, split, dev_speakers, seed)
    if split == "manifest":
        return [_manifest_fold(corpus, dev_speakers, seed)]
    raise ConfigError(f"unknown split {split!r}: choose one of {', '.join(SPLIT_NAMES)}")


def group_of(corpus: Corpus) -> dict[str, str]:
    """{utterance id: LOSO group}: the session if every utterance has one, else the speaker."""
    by_session = all(u.session for u in corpus.utterances)
    return {u.id: (u.session if by_session else u.speaker) for u in corpus.utterances}


def speaker_gender(corpus: Corpus, speaker: str) -> str | None:
    """'m', 'f' or None (unknown) for a speaker of a registered corpus."""
    kind = CORPORA.get(corpus.name)
    return kind.speaker_gender(speaker) if kind is not None else None


def _loso(corpus: Corpus, split: str, dev_speakers: int, seed: int) -> list[Fold]:
    groups = group_of(corpus)
    keys = sorted(set(groups.values()))
    if len(keys) < 2:
        raise DataError(f"split {split!r} needs at least 2 speakers/sessions, corpus has {len(keys)}")
    if ":" in split:
        k = split.split(":", 1)[1].strip()
        if k in keys:
            keys = [k]
        elif k.isdigit() and int(k) < len(keys):
            keys = [keys[int(k)]]
        else:
            raise ConfigError(
                f"split {split!r}: {k!r} is neither a group ({few(keys, 10)}) nor an index 0..{len(keys) - 1}"
            )
    folds = []
    for key in keys:
        test = [u for u in corpus.utterances if groups[u.id] == key]
        train = [u for u in corpus.utterances if groups[u.id] != key]
        folds.append(_fold(corpus, f"loso-{key}", train, test, dev_speakers, seed))
    return folds


def _manifest_fold(corpus: Corpus, dev_speakers: int, seed: int) -> Fold:
    unset = [u.id for u in corpus.utterances if not u.split]
    if unset:
        raise ConfigError(f"split 'manifest' needs a split column for every row; none for {few(unset, 3)}")
    part = {s: [u for u in corpus.utterances if u.split == s] for s in ("train", "dev", "test")}
    if not part["dev"]:
        return _fold(corpus, "manifest", part["train"], part["test"], dev_speakers, seed)
    spk = {s: {u.speaker for u in us} for s, us in part.items()}
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        both = sorted(spk[a] & spk[b])
        if both:
            raise DataError(f"manifest split: speaker(s) {few(both, 3)} in both {a} and {b}")
    if not part["train"] or not part["test"]:
        raise DataError("manifest split: need at least one train row and one test row")
    return Fold("manifest", part["train"], part["dev"], part["test"], tuple(sorted(spk["test"])))


def _fold(
    corpus: Corpus, name: str, train: list[Utterance], test: list[Utterance], dev_speakers: int, seed: int
) -> Fold:
    test_spk = {u.speaker for u in test}
    train_spk = sorted({u.speaker for u in train})
    overlap = sorted(test_spk & set(train_spk))
    if overlap:
        raise DataError(f"fold {name}: speaker(s) {few(overlap, 3)} in both train and test")
    if not train or not test:
        raise DataError(f"fold {name}: {'no training' if not train else 'no test'} utterances in this corpus")
    if dev_speakers >= len(train_spk):
        raise ConfigError(
            f"fold {name}: dev_speakers={dev_speakers} leaves no training speaker "
            f"({len(train_spk)} available)"
        )
    dev_spk = set(_pick_dev(corpus, train_spk, dev_speakers, random.Random(f"{seed}/{name}")))
    return Fold(
        name=name,
        train=[u for u in train if u.speaker not in dev_spk],
        dev=[u for u in train if u.speaker in dev_spk],
        test=list(test),
        test_speakers=tuple(sorted(test_spk)),
    )


def _pick_dev(corpus: Corpus, speakers: list[str], n: int, rng: random.Random) -> list[str]:
    """`n` speakers from the sorted list `speakers`, alternating genders when they are known."""
    if n == 0:
        return []
    genders = {s: speaker_gender(corpus, s) for s in speakers}
    pools = {g: [s for s in speakers if genders[s] == g] for g in ("f", "m")}
    if n < 2 or None in genders.values() or not all(pools.values()):
        return rng.sample(speakers, n)
    for pool in pools.values():
        rng.shuffle(pool)
    order = ["f", "m"] if rng.random() < 0.5 else ["m", "f"]
    picked: list[str] = []
    while len(picked) < n:
        for g in order:
            if pools[g] and len(picked) < n:
                picked.append(pools[g].pop())
    return picked
