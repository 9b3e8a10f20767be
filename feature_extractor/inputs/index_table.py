"""Reading the utterance index for stages 1 and 2, and checking its labels against a model's classes."""

from pathlib import Path

import pandas as pd

UNLABELLED = -1


def index_label_names(index_dir) -> tuple[str, ...]:
    """The class order the index in `index_dir` records (its corpus's label set)."""
    from feature_extractor.corpus.index_io import index_label_names as recorded

    return recorded(index_dir if Path(index_dir).is_dir() else Path(index_dir).parent)


def load_index_table(index_dir, corpus_root=None) -> pd.DataFrame:
    """The index frame of `index_dir` (with the absolute `wav_file` column of read_index)."""
    from feature_extractor.corpus import read_index

    if not index_dir:
        raise ValueError("no index given: pass the folder written by kemdy-index")
    return read_index(index_dir, corpus_root=corpus_root)


def check_labels(table: pd.DataFrame, label_names, source, allow_unlabelled: bool = False) -> None:
    """Every label id must index `label_names` and agree with the row's emotion name. With
    `allow_unlabelled`, -1 (no label) is accepted on rows of the `predict` split."""
    names = list(label_names)
    rows = zip(table.index, table["label"], table["emotion"], table["segment_id"], table["split"])
    for position, label, emotion, segment, split in rows:
        label = int(label)
        if allow_unlabelled and label == UNLABELLED and split == "predict":
            continue
        if not 0 <= label < len(names) or names[label] != emotion:
            raise ValueError(
                f"{source}/index.csv line {position + 2} ({segment}): label {label} / emotion {emotion!r}; "
                f"expected a class of this model: {', '.join(f'{i}={n}' for i, n in enumerate(names))}"
            )
