"""KEMDy19 / KEMDy20 corpus readers: raw tree -> utterance index (columns in docs/contracts.md).

    result = build_index("data/KEMDy19", tie_policy="drop")
    write_index(result, "work/index", options={...})
    frame = read_index("work/index")          # dtypes restored, absolute `wav_file` added

How the raw files are interpreted is written up in docs/corpus.md."""

from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.index_builder import IndexResult, build_index
from feature_extractor.corpus.index_io import read_index, read_index_meta, read_skipped, write_index
from feature_extractor.corpus.schema import INDEX_COLUMNS
from feature_extractor.corpus.splits import SplitConfig

__all__ = [
    "CorpusError",
    "INDEX_COLUMNS",
    "IndexResult",
    "SplitConfig",
    "build_index",
    "read_index",
    "read_index_meta",
    "read_skipped",
    "write_index",
]
