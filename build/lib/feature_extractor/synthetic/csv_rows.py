"""Fast text formatting of long numeric tables (physiological files hold ~10^5-10^6 rows).

One `%` operation formats a whole block in C: (row_format * n) % flat_values. Rows inside an
annotated segment carry the segment id, which is constant over a run of rows, so it goes into the
format string of that run."""

import numpy as np


def format_rows(row_format: str, *columns) -> str:
    """Lines `row_format % (columns[0][i], columns[1][i], ...)` for every row i, joined.

    A format with fewer fields than columns uses the leading columns (short untagged rows)."""
    fields = row_format.count("%") - 2 * row_format.count("%%")
    columns = columns[:fields]
    count = len(columns[0])
    if count == 0:
        return ""
    flat = np.column_stack([np.asarray(column, dtype=np.float64) for column in columns]).ravel().tolist()
    return (row_format * count) % tuple(flat)


def format_tagged_rows(tags: np.ndarray, names, tagged_format: str, untagged_format: str, *columns) -> str:
    """Like format_rows, choosing the format per row: tag -1 -> untagged, else tagged with names[tag].

    `tagged_format` holds the literal `{segment}` where the segment id goes."""
    tags = np.asarray(tags)
    if len(tags) == 0:
        return ""
    boundaries = np.flatnonzero(np.diff(tags)) + 1
    starts, stops = np.concatenate([[0], boundaries]), np.concatenate([boundaries, [len(tags)]])
    pieces = []
    for start, stop in zip(starts, stops):
        tag = int(tags[start])
        row_format = untagged_format if tag < 0 else tagged_format.replace("{segment}", names[tag].replace("%", "%%"))
        pieces.append(format_rows(row_format, *(column[start:stop] for column in columns)))
    return "".join(pieces)


def segment_tags(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the segment [start, end] containing each time, -1 outside (segments sorted, disjoint)."""
    position = np.searchsorted(starts, times, side="right") - 1
    inside = (position >= 0) & (times <= np.asarray(ends)[np.clip(position, 0, None)])
    return np.where(inside, position, -1)
