"""Speech emotion corpora: Emo-DB, IEMOCAP and CSV manifests, read into one `Corpus` record.

`registry.CORPORA` lists the kinds of corpus (the `--dataset` choices); `load_corpus` reads one.
"""

from __future__ import annotations

from ser_bnn.data.corpora.base import Corpus, Utterance, summary_table
from ser_bnn.data.corpora.registry import (
    CORPORA,
    DATASETS,
    CorpusKind,
    ReaderOption,
    corpus_kind,
    load_corpus,
    resolve_data_dir,
)

__all__ = [
    "CORPORA",
    "DATASETS",
    "Corpus",
    "CorpusKind",
    "ReaderOption",
    "Utterance",
    "corpus_kind",
    "load_corpus",
    "resolve_data_dir",
    "summary_table",
]
