"""Speech emotion corpora: Emo-DB, IEMOCAP and CSV manifests, read into one `Corpus` record."""

from __future__ import annotations

from ser_bnn.corpora.base import DATASETS, Corpus, Utterance, load_corpus, resolve_data_dir, summary_table

__all__ = ["DATASETS", "Corpus", "Utterance", "load_corpus", "resolve_data_dir", "summary_table"]
