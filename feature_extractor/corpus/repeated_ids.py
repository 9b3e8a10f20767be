"""A segment id written on several rows of one annotation file: a corpus typo, settled row by row.

The real KEMDy19 has one: in `Session03_F_res.csv` the row at 0-3.944 s of `Sess03_impro02` is
written `Sess03_impro02_M001`, the next row's id; `Session03_M_res.csv` (which lists every
segment of the session too) and the wav names say it is `Sess03_impro02_F001`.

Rule, for each id X written on several rows of a file (docs/corpus.md, "Repeated segment ids"):
  0. rows that agree in every column read (all but `Numb`) are one row written twice: the first
     is kept, the copies dropped;
  1. a row written X is read as Y when the session's other annotation file has exactly one row
     of X's dialogue with the same Wav start and end (to the millisecond), that row's id Y is not
     X, and this file lists Y nowhere (no other row of X is read as Y either);
  2. when one row is left written X, it is X;
  3. when several are left, the one row whose times the other file gives to X stays X; every
     other row written X is dropped, as is every one of them when no single row is confirmed.
Repairs and drops are returned as `Settled` entries (one line each for the index notes). KEMDy20
has one file per session, so only rule 0 settles a repeated id there; otherwise all of its rows
are dropped."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from feature_extractor.corpus.errors import display_path

TIME_TOLERANCE_S = 5e-4  # the two files write the same times, rounded to the millisecond at most


@dataclass(frozen=True)
class OtherFile:
    """The session's other annotation file (KEMDy19: the other actor's), listing the same segments."""

    path: Path
    table: pd.DataFrame
    dialogue_of: Callable[[str], str | None]  # times restart with every dialogue recording


@dataclass(frozen=True)
class Settled:
    """One row of a repeated id: read as another id (`read_as`) or dropped (`read_as` None)."""

    file: Path
    line: int
    written: str
    read_as: str | None
    why: str

    def note(self, root: Path) -> str:
        outcome = f"read as {self.read_as}" if self.read_as else "row dropped"
        where = f"{display_path(self.file, root)}, line {self.line}"
        return f"{where}: segment id {self.written} is repeated; {outcome} ({self.why})"


def settle_repeated_ids(
    table: pd.DataFrame, path: Path, other: OtherFile | None = None
) -> tuple[pd.DataFrame, list[Settled]]:
    """`table` (read_annotation's rows of `path`) with repeated ids repaired or their rows
    dropped, and what was done. `other`: the session's other file (None: there is none)."""
    repeated = table.loc[table["segment_id"].duplicated(), "segment_id"].unique()
    if len(repeated) == 0:
        return table, []
    table = table.copy()
    listed = set(table["segment_id"])
    settled: list[Settled] = []
    for segment_id in repeated:
        settled += _settle_one_id(table, segment_id, Path(path), other, listed)
    dropped_lines = {entry.line for entry in settled if entry.read_as is None}
    return table[~table["line"].isin(dropped_lines)], settled


def ids_lost(settled: list[Settled], table: pd.DataFrame) -> set[str]:
    """Ids written on dropped rows that no row of the settled `table` carries any more."""
    return {entry.written for entry in settled if entry.read_as is None} - set(table["segment_id"])


def _settle_one_id(table, segment_id, path: Path, other: OtherFile | None, listed: set) -> list[Settled]:
    rows = table.index[table["segment_id"] == segment_id]
    first, *copies = rows
    if all(_same_content(table.loc[first], table.loc[row]) for row in copies):
        why = f"a copy of line {table.loc[first, 'line']}"
        return [Settled(path, int(table.loc[row, "line"]), segment_id, None, why) for row in copies]
    other_ids = {row: _other_ids_at_times(table.loc[row], other, segment_id) for row in rows}
    repairs = _repairs(other_ids, segment_id, listed)
    lines = table.loc[rows, "line"].tolist()
    settled = []
    for row, new_id in repairs.items():
        table.loc[row, "segment_id"] = new_id
        listed.add(new_id)
        why = f"{other.path.name} gives {new_id} the same {_span(table.loc[row])}" + _also_on(lines, row, table)
        settled.append(Settled(path, int(table.loc[row, "line"]), segment_id, new_id, why))
    left = [row for row in rows if row not in repairs]
    confirmed = [row for row in left if segment_id in other_ids[row]]
    keep = left if len(left) == 1 else confirmed if len(confirmed) == 1 else []
    for row in left:
        if row not in keep:
            why = _why_dropped(other) + _also_on(lines, row, table)
            settled.append(Settled(path, int(table.loc[row, "line"]), segment_id, None, why))
    return settled


def _other_ids_at_times(row: pd.Series, other: OtherFile | None, segment_id: str) -> list[str]:
    """Ids of the other file's rows in this id's dialogue with this row's start and end."""
    if other is None:
        return []
    times = other.table
    same_times = np.isclose(times["start"], row["start"], rtol=0, atol=TIME_TOLERANCE_S) & np.isclose(
        times["end"], row["end"], rtol=0, atol=TIME_TOLERANCE_S
    )
    dialogue = other.dialogue_of(segment_id)
    return [candidate for candidate in times.loc[same_times, "segment_id"] if other.dialogue_of(candidate) == dialogue]


def _same_content(row: pd.Series, another: pd.Series) -> bool:
    return row.drop("line").equals(another.drop("line"))


def _repairs(other_ids: dict, segment_id: str, listed: set) -> dict:
    """Row -> the id it is read as (rule 1); an id two rows would take settles neither."""
    wanted = {
        row: ids[0] for row, ids in other_ids.items() if len(ids) == 1 and ids[0] != segment_id and ids[0] not in listed
    }
    claims = Counter(wanted.values())
    return {row: new_id for row, new_id in wanted.items() if claims[new_id] == 1}


def _why_dropped(other: OtherFile | None) -> str:
    if other is None:
        return "no other annotation file of the session settles which row it is"
    return f"{other.path.name} does not settle which row it is"


def _span(row: pd.Series) -> str:
    return f"{row['start']:.3f}-{row['end']:.3f} s"


def _also_on(lines: list, row, table: pd.DataFrame) -> str:
    others = [str(line) for line in lines if line != table.loc[row, "line"]]
    return f"; the id is also written on line {', '.join(others)}"
