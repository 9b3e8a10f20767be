"""The three per-split CSV files that MELD and EmoryNLP ship, read as one set of table rows."""

from pathlib import Path

import pandas as pd

from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.utterance_table import read_rows


def read_split_files(folder, files: dict, required) -> pd.DataFrame:
    """Rows of every split's file (`files`: split -> file name) with a `split` column."""
    folder = Path(folder)
    missing = [name for name in files.values() if not (folder / name).is_file()]
    if missing:
        raise CorpusError(f"missing {', '.join(missing)}", folder,
                          expected="the official files " + ", ".join(files.values()))
    parts = [read_rows(folder / name, "csv", required=required).assign(split=split) for split, name in files.items()]
    return pd.concat(parts, ignore_index=True)
