"""Signal-file readers and per-segment summaries, against numpy references."""

import numpy as np
import pandas as pd
import pytest

from feature_extractor.corpus import CorpusError
from feature_extractor.corpus.physio import summarize_physio
from feature_extractor.corpus.signal_files import SignalSource, read_signal_file

SEGMENT = "Sess01_script01_F001"
OTHER = "Sess01_script01_M001"


def segments_frame(*rows):
    """rows: (segment_id, start, end, gender)"""
    frame = pd.DataFrame(rows, columns=["segment_id", "start", "end", "gender"])
    frame["session"] = 1
    frame["source_segment_id"] = frame["segment_id"]
    return frame


def write_signal(root, folder, name, lines):
    path = root / folder / "Session01" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def summarize(root, segments, source):
    return summarize_physio(root, segments, [source], lambda stem: None, "gender")


def test_e4_summary_matches_numpy_reference(tmp_path):
    rng = np.random.default_rng(0)
    rate, values = 32.0, rng.normal(size=60).round(4)
    tagged = range(5, 45)
    lines = ["1600000000.0", f"{rate}"]
    for row, value in enumerate(values):
        lines.append(f"{value},t{row},{SEGMENT}" if row in tagged else f"{value}")
    write_signal(tmp_path, "EDA", "a.csv", lines)
    result = summarize(tmp_path, segments_frame((SEGMENT, 0.0, 9.0, "F")), SignalSource("eda", "EDA", "", "e4"))
    times = np.array(tagged) / rate
    inside = values[list(tagged)]
    row = result.loc[SEGMENT]
    assert row["has_eda"]
    assert row["eda_mean"] == pytest.approx(inside.mean())
    assert row["eda_std"] == pytest.approx(inside.std())
    assert row["eda_slope"] == pytest.approx(np.polyfit(times, inside, 1)[0])
    assert not row["has_ecg"] and np.isnan(row["ecg_mean"])


def test_rateless_file_spreads_samples_over_the_segment(tmp_path):
    values = [3.0, 1.0, 4.0, 1.0, 5.0]
    lines = ["9.9,x"] + [f"{v},13:00:00,0.0,{SEGMENT}" for v in values] + ["9.9"]
    write_signal(tmp_path, "ECG", "Sess01F.csv", lines)
    result = summarize(tmp_path, segments_frame((SEGMENT, 2.0, 4.5, "F")), SignalSource("ecg", "ECG", "", "tagged"))
    times = np.arange(5) * 2.5 / 5  # duration 2.5 s, 5 samples
    assert result.loc[SEGMENT, "ecg_slope"] == pytest.approx(np.polyfit(times, values, 1)[0])
    assert result.loc[SEGMENT, "ecg_mean"] == pytest.approx(np.mean(values))


def test_tagged_file_with_an_e4_header_uses_its_rate(tmp_path):
    path = write_signal(tmp_path, "EDA", "x.csv", ["1560000000", "4", "0.1", f"0.2,a,b,{SEGMENT}", f"0.6,a,b,{SEGMENT}"])
    rows = read_signal_file(path, "tagged", {SEGMENT})
    assert rows["time"].tolist() == [0.25, 0.5]  # data rows 1 and 2 at 4 Hz
    assert rows["value"].tolist() == [0.2, 0.6]


def test_ibi_rows(tmp_path):
    path = write_signal(tmp_path, "IBI", "i.csv", ["1600000000, IBI", "0.5,0.7", f"1.5,0.8,ts,{SEGMENT}"])
    rows = read_signal_file(path, "ibi", {SEGMENT})
    assert rows[["segment", "time", "value"]].values.tolist() == [[0, 1.5, 0.8]]


def test_short_rows_unknown_ids_and_single_samples(tmp_path):
    lines = ["1600000000", "4", "1.0", "1.0,ts", f"2.0,ts,{OTHER}", "3.0,ts,Sess01_script01_F999", "4.0,ts,Sess01_script01_F999"]
    write_signal(tmp_path, "EDA", "b.csv", lines)
    segments = segments_frame((SEGMENT, 0.0, 1.0, "F"), (OTHER, 1.0, 2.0, "M"))
    result = summarize(tmp_path, segments, SignalSource("eda", "EDA", "", "e4"))
    assert list(result.index) == [SEGMENT, OTHER]  # F999 (not annotated) is ignored
    assert not result["has_eda"].any()  # SEGMENT: no samples; OTHER: one sample only
    assert result["eda_mean"].isna().all() and result["eda_slope"].isna().all()


def test_owner_file_wins_then_the_fuller_file(tmp_path):
    write_signal(tmp_path, "EDA", "Sess01_M.csv", ["1", "1", f"50,t,{SEGMENT}", f"60,t,{SEGMENT}", f"70,t,{SEGMENT}"])
    write_signal(tmp_path, "EDA", "Sess01_F.csv", ["1", "1", f"1,t,{SEGMENT}", f"3,t,{SEGMENT}"])
    write_signal(tmp_path, "EDA", "extra.csv", ["1", "1", f"7,t,{SEGMENT}", f"9,t,{SEGMENT}", f"11,t,{SEGMENT}"])
    source = SignalSource("eda", "EDA", "", "e4")

    def owner(stem):
        return {"Sess01_M": "M", "Sess01_F": "F"}.get(stem)

    segments = segments_frame((SEGMENT, 0.0, 3.0, "F"))
    result = summarize_physio(tmp_path, segments, [source], owner, "gender")
    assert result.loc[SEGMENT, "eda_mean"] == 2.0  # own file, though extra.csv has more samples
    (tmp_path / "EDA" / "Session01" / "Sess01_F.csv").unlink()
    result = summarize_physio(tmp_path, segments, [source], owner, "gender")
    assert result.loc[SEGMENT, "eda_mean"] == 9.0  # the owner-less file; the M file is the listener's


def test_bad_rate_and_too_many_fields_are_errors(tmp_path):
    bad_rate = write_signal(tmp_path, "EDA", "r.csv", ["1600000000", "fast", "1.0"])
    with pytest.raises(CorpusError, match=r"r\.csv, line 2.*sampling rate"):
        read_signal_file(bad_rate, "e4", {SEGMENT})
    for first_rows in ([], ["1.0"]):  # pandas reports a wide first row differently from a later one
        wide = write_signal(tmp_path, "EDA", "w.csv", ["1600000000", "4", *first_rows, "1,2,3,4,5,6,7,8,9,10"])
        with pytest.raises(CorpusError, match=r"w\.csv.*at most 8"):
            read_signal_file(wide, "e4", {SEGMENT})
