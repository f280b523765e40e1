"""Corpus and utterance records shared by every dataset reader (`registry.load_corpus` picks one)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ser_bnn.errors import DataError


@dataclass(frozen=True)
class Utterance:
    """One labelled recording. `speaker` ids are unique across a corpus (IEMOCAP: 'Ses01F')."""

    id: str
    path: Path
    label: str
    speaker: str
    text: str = ""
    session: str = ""
    split: str = ""  # "train" | "dev" | "test" from a CSV manifest, else ""


@dataclass
class Corpus:
    """A list of utterances and the fixed, ordered label set (class index = position in `labels`)."""

    name: str
    root: Path
    utterances: list[Utterance]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.utterances)

    def speakers(self) -> tuple[str, ...]:
        """Sorted speaker ids."""
        return tuple(sorted({u.speaker for u in self.utterances}))

    def counts(self) -> dict[str, int]:
        """Utterances per label, in `labels` order (labels without utterances count 0)."""
        c = Counter(u.label for u in self.utterances)
        return {label: c.get(label, 0) for label in self.labels}

    def by_speaker(self) -> dict[str, list[Utterance]]:
        """Utterances grouped per speaker, speakers sorted, utterance order kept."""
        groups: dict[str, list[Utterance]] = {s: [] for s in self.speakers()}
        for u in self.utterances:
            groups[u.speaker].append(u)
        return groups

    def label_index(self, label: str) -> int:
        """Class index of `label`."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise DataError(f"label {label!r} is not one of {', '.join(self.labels)}") from None


def few(items: list[str], n: int = 5) -> str:
    """The first `n` items joined by commas, with a count of the rest (for one-line errors)."""
    shown = ", ".join(items[:n])
    return shown + (f", ... (+{len(items) - n} more)" if len(items) > n else "")


def project_root() -> Path:
    """The directory holding the `ser_bnn` package (the repository root in a checkout)."""
    import ser_bnn

    return Path(ser_bnn.__file__).resolve().parents[1]


def summary_table(corpus: Corpus) -> str:
    """Utterances, speakers, per-class counts and total duration (from file headers) as text."""
    from ser_bnn.data.audio import audio_duration

    seconds = Counter[str]()
    for u in corpus.utterances:
        seconds[u.label] += audio_duration(u.path)
    n = len(corpus.utterances)
    spk = corpus.by_speaker()
    total = sum(seconds.values())
    width = max([len("label"), *(len(label) for label in corpus.labels)])
    lines = [
        f"corpus {corpus.name} at {corpus.root}",
        f"{n} utterances, {len(spk)} speakers, {total / 60:.2f} min",
        f"{'label':<{width}}  {'count':>5}  {'share':>6}  {'minutes':>7}",
    ]
    for label, count in corpus.counts().items():
        share = 100.0 * count / n if n else 0.0
        lines.append(f"{label:<{width}}  {count:>5}  {share:>5.1f}%  {seconds[label] / 60:>7.2f}")
    lines.append("speakers: " + " ".join(f"{s}:{len(us)}" for s, us in spk.items()))
    return "\n".join(lines)
