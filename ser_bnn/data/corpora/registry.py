"""The corpus registry: one `CorpusKind` per `--dataset` value, and `load_corpus` to read one.

Everything the rest of the package knows about a kind of corpus lives in its entry: the reader,
the reader options the command line sets (saved in `Config.corpus_options`, so `evaluate` and
`export` reload the corpus as training read it), the default split, the speakers' genders (for
the dev-speaker choice), where to look when no `--data-dir` is given, and what `prepare` can
download or verify. The `--dataset` choices are the registered names. Adding a corpus: a reader
module in this package and one `CorpusKind` in `CORPORA` below (README: "Adding a corpus").
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ser_bnn.data.corpora import emodb, iemocap
from ser_bnn.data.corpora.base import Corpus, project_root
from ser_bnn.data.corpora.manifest import load_manifest
from ser_bnn.errors import ConfigError, DataError

DATA_ENV = "SER_BNN_DATA"
DEFAULT_DATASET = "emodb"


@dataclass(frozen=True)
class ReaderOption:
    """A reader keyword set by a command-line flag: `flag` VALUE gives `reader(root, key=VALUE)`."""

    flag: str
    key: str
    type: Callable[[str], Any] = str
    choices: tuple[Any, ...] = ()
    default: Any = None
    help: str = ""

    @property
    def dest(self) -> str:
        """The argparse attribute of the flag."""
        return self.flag.lstrip("-").replace("-", "_")


def unknown_gender(speaker: str) -> str | None:
    """The gender lookup of a corpus that does not record genders."""
    return None


@dataclass(frozen=True)
class CorpusKind:
    """What `--dataset NAME` means.

    name: the `--dataset` value; the reader's `Corpus.name` must equal it.
    reader: `reader(root, **options) -> Corpus`; `root` is the resolved data directory.
    title: the corpus in messages ("Emo-DB").
    data_dir: what `--data-dir` points at (for `--help`).
    options: reader keywords set from the command line; saved in `Config.corpus_options`.
    default_split: the split of `ser-bnn train` without `--split`.
    fixed_split: (train speakers, test speakers) of `--split fixed`, or None (no such split).
    speaker_gender: speaker id -> 'f', 'm' or None (unknown); dev speakers alternate genders.
    default_data_dir: a folder under ../shared/data (seen from the working directory, then from the
      project root) tried when neither `--data-dir` nor $SER_BNN_DATA is given; "" for none.
    download: `download(dest, progress)` fetches the corpus into `dest` (`prepare --download`).
    checksums: the reader takes `verify_checksums=True` (`prepare --verify-checksums`).
    """

    name: str
    reader: Callable[..., Corpus]
    title: str
    data_dir: str
    options: tuple[ReaderOption, ...] = ()
    default_split: str = "loso"
    fixed_split: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    speaker_gender: Callable[[str], str | None] = unknown_gender
    default_data_dir: str = ""
    download: Callable[[str | Path, bool], Any] | None = None
    checksums: bool = False


def _download_emodb(dest: str | Path, progress: bool) -> Path:
    from ser_bnn.data.corpora.download import download_emodb

    return download_emodb(dest, progress=progress)


CORPORA: dict[str, CorpusKind] = {
    kind.name: kind
    for kind in (
        CorpusKind(
            name="emodb",
            reader=emodb.load_emodb,
            title="Emo-DB",
            data_dir="folder holding wav/",
            default_split="fixed",
            fixed_split=(emodb.FIXED_TRAIN_SPEAKERS, emodb.FIXED_TEST_SPEAKERS),
            speaker_gender=emodb.SPEAKER_GENDER.get,
            default_data_dir="emodb",
            download=_download_emodb,
            checksums=True,
        ),
        CorpusKind(
            name="iemocap",
            reader=iemocap.load_iemocap,
            title="IEMOCAP",
            data_dir="IEMOCAP_full_release",
            options=(
                ReaderOption(
                    "--iemocap-classes", "classes", int, (4, 5), 5, help="IEMOCAP label set (default 5)"
                ),
            ),
            speaker_gender=iemocap.speaker_gender,
        ),
        CorpusKind(name="csv", reader=load_manifest, title="csv", data_dir="the manifest file"),
    )
}
DATASETS: tuple[str, ...] = tuple(CORPORA)


def corpus_kind(name: str) -> CorpusKind:
    """The registered kind `name`; ConfigError if there is none."""
    if name not in CORPORA:
        raise ConfigError(f"unknown dataset {name!r}: choose one of {', '.join(CORPORA)}")
    return CORPORA[name]


def names_with(has: Callable[[CorpusKind], Any]) -> str:
    """'a or b': the registered names whose kind has a property (for one-line errors)."""
    return " or ".join(k.name for k in CORPORA.values() if has(k))


def resolve_data_dir(dataset: str, data_dir: str | Path | None) -> Path:
    """Explicit `data_dir`, else $SER_BNN_DATA, else the kind's `default_data_dir` under
    ../shared/data seen from the working directory or from the project root. Raises DataError if
    nothing is found."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    kind = CORPORA.get(dataset)
    if kind is not None and kind.default_data_dir:
        candidates = [
            base / ".." / "shared" / "data" / kind.default_data_dir for base in (Path.cwd(), project_root())
        ]
        for c in candidates:
            if c.is_dir():
                return c.resolve()
        fetch = ", or run the download" if kind.download else ""
        raise DataError(
            f"no {kind.title} found (tried {', '.join(str(c.resolve()) for c in candidates)}): "
            f"pass --data-dir, set {DATA_ENV}{fetch}"
        )
    raise DataError(f"no data directory for {dataset!r}: pass --data-dir or set {DATA_ENV}")


def load_corpus(dataset: str, data_dir: str | Path | None = None, **options: Any) -> Corpus:
    """Read a registered corpus (for 'csv', `data_dir` is the manifest file or a directory holding
    `manifest.csv`). Options go to the reader (see each module); ConfigError if it takes no such option."""
    kind = corpus_kind(dataset)
    root = resolve_data_dir(dataset, data_dir)
    if not root.exists():
        raise DataError(f"data directory {root} does not exist")
    try:
        inspect.signature(kind.reader).bind(root, **options)
    except TypeError as e:
        raise ConfigError(f"{dataset}: {e}") from None
    return kind.reader(root, **options)
