"""The utterances' text by segment id, for report pages of evaluations whose features carry no
text (a conversation pickle has none):

    text_of = texts_by_segment("work/index/index.csv")         # any CSV / TSV with segment_id, text
    texts = [text_of.get(segment_id) for _, segment_id, _ in rows]   # None where unknown

A table without `segment_id` but with `dialogue_id` and `turn` (the shared IEMOCAP transcripts)
gets kemdy-import's ids for pickles without utterance ids, `<dialogue_id>_<turn:03d>`."""

import csv
from pathlib import Path

from erc_core.errors import UserError


def texts_by_segment(path) -> dict:
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, dialect="excel-tab" if path.suffix.lower() == ".tsv" else "excel")
            columns = set(reader.fieldnames or [])
            segment_id = _segment_id_rule(columns, path)
            return {segment_id(row): row["text"] for row in reader}
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as error:
        raise UserError(f"{path}: cannot read the utterance texts: {error}") from None


def _segment_id_rule(columns: set, path: Path):
    if "text" in columns and "segment_id" in columns:
        return lambda row: row["segment_id"]
    if {"text", "dialogue_id", "turn"} <= columns:
        return lambda row: f"{row['dialogue_id']}_{int(row['turn']):03d}"
    raise UserError(f"{path}: expected the columns segment_id and text (or dialogue_id, turn and text); "
                    f"found {', '.join(sorted(columns)) or 'none'}")
