"""Corpus and utterance records shared by every dataset reader, and `load_corpus` to pick one."""

from __future__ import annotations

import inspect
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ser_bnn.errors import ConfigError, DataError

DATASETS = ("emodb", "iemocap", "csv")
DATA_ENV = "SER_BNN_DATA"


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


def resolve_data_dir(dataset: str, data_dir: str | Path | None) -> Path:
    """Explicit `data_dir`, else $SER_BNN_DATA, else (Emo-DB only) `../shared/data/emodb` seen from
    the working directory or from the project root. Raises DataError if nothing is found."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    if dataset == "emodb":
        candidates = [
            Path.cwd() / ".." / "shared" / "data" / "emodb",
            project_root() / ".." / "shared" / "data" / "emodb",
        ]
        for c in candidates:
            if c.is_dir():
                return c.resolve()
        raise DataError(
            f"no Emo-DB found (tried {', '.join(str(c.resolve()) for c in candidates)}): "
            f"pass --data-dir, set {DATA_ENV}, or run the download"
        )
    raise DataError(f"no data directory for {dataset!r}: pass --data-dir or set {DATA_ENV}")


def load_corpus(dataset: str, data_dir: str | Path | None = None, **options: Any) -> Corpus:
    """Read a corpus. `dataset` is 'emodb', 'iemocap' or 'csv' (then `data_dir` is the manifest file
    or a directory holding `manifest.csv`). Options go to the reader (see each module)."""
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    root = resolve_data_dir(dataset, data_dir)
    if not root.exists():
        raise DataError(f"data directory {root} does not exist")
    if dataset == "emodb":
        from ser_bnn.corpora.emodb import load_emodb as reader
    elif dataset == "iemocap":
        from ser_bnn.corpora.iemocap import load_iemocap as reader
    else:
        from ser_bnn.corpora.manifest import load_manifest as reader
    try:
        inspect.signature(reader).bind(root, **options)
    except TypeError as e:
        raise ConfigError(f"{dataset}: {e}") from None
    return reader(root, **options)


def summary_table(corpus: Corpus) -> str:
    """Utterances, speakers, per-class counts and total duration (from file headers) as text."""
    from ser_bnn.audio import audio_duration

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
