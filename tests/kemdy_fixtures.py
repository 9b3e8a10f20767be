"""Small HAND-MADE KEMDy19 / KEMDy20 trees, written straight from /work/shared/KEMDY_FORMAT.md.

Every row, transcript and signal sample below is typed by hand so tests can check the readers
against values worked out on paper. The helpers only lay those rows out in the file formats
(two header rows, 43 / 37 columns, E4 header lines, cp949 text)."""

from pathlib import Path

import numpy as np
import soundfile

RATERS = 10

# --- KEMDy19 ----------------------------------------------------------------------------------
# (segment id, start, end, own-file total emotion, raters of the own file, listener-file total)
# Raters are (emotion, count) pairs; "" is a rater who left the emotion blank.
KEMDY19_SEGMENTS = [
    ("Sess01_script01_F001", 0.50, 2.50, "neutral", [("neutral", 7), ("happy", 3)], "happy"),
    ("Sess01_script01_M001", 3.00, 5.00, "angry", [("angry", 6), ("disgust", 4)], "sad"),
    ("Sess01_script01_M002", 5.20, 6.00, "happy;neutral", [("neutral", 5), ("happy", 3), ("sad", 2)], "neutral"),
    ("Sess01_script01_F002", 6.50, 9.00, "sad", [("sad", 8), ("angry", 1), ("", 1)], "angry"),
    ("Sess01_script01_F003", 9.50, 11.00, "surprise;fear", [("surprise", 4), ("fear", 4), ("neutral", 2)], "neutral"),
    ("Sess01_impro01_M001", 0.00, 1.50, "happy", [("happy", 10)], "neutral"),
    ("Sess01_impro01_F001", 2.00, 3.00, "disgust", [("disgust", 6), ("angry", 4)], "fear"),
    ("Sess02_script01_F001", 1.00, 2.00, "fear", [("fear", 9), ("surprise", 1)], "neutral"),
    ("Sess02_script01_M001", 2.50, 4.00, "neutral", [("neutral", 10)], "angry"),
]
# Total valence / arousal of the own file (listener rows get 1.0 / 1.0).
KEMDY19_VA = {
    "Sess01_script01_F001": (3.1, 2.9),
    "Sess01_script01_M001": (1.8, 4.2),
    "Sess01_script01_M002": (3.5, 3.0),
    "Sess01_script01_F002": (1.6, 2.4),
    "Sess01_script01_F003": (2.7, 3.9),
    "Sess01_impro01_M001": (4.5, 3.8),
    "Sess01_impro01_F001": (2.2, 3.1),
    "Sess02_script01_F001": (1.7, 3.6),
    "Sess02_script01_M001": (3.0, 3.0),
}
KEMDY19_TRANSCRIPTS = {
    "Sess01_script01_F001": "l/ 안녕 (3시)/(세 시)에 보자+ b/",
    "Sess01_script01_M001": "뭐* 하는 거야 n/",
    "Sess01_script01_M002": "o/ 그래 그래",
    "Sess01_script01_F002": "미안해",
    "Sess01_script01_F003": "진짜?",
    "Sess01_impro01_M001": "하하 l/",
    "Sess01_impro01_F001": "싫어",
    "Sess02_script01_F001": "무서워",
    "Sess02_script01_M001": "괜찮아",
}
# ECG (no header, rate unknown): `value,time,time,segment` inside segments, fewer fields outside.
KEMDY19_ECG_F = """0.10,13:00:00.000
1.0,13:00:00.500,0.500,Sess01_script01_F001
2.0,13:00:01.167,1.167,Sess01_script01_F001
4.0,13:00:01.833,1.833,Sess01_script01_F001
100.0,13:00:03.000,3.000,Sess01_script01_M001
100.0,13:00:04.000,4.000,Sess01_script01_M001
0.20,13:00:05.500
2.0,13:00:06.800,6.800,Sess01_script01_F002
2.0,13:00:07.400,7.400,Sess01_script01_F002
3.0,13:00:08.000,8.000,Sess01_script01_F002
5.0,13:00:08.600,8.600,Sess01_script01_F002
7.0,13:00:10.000,10.000,Sess01_script01_F003
9.0,13:00:12.000,12.000,Sess01_script01_F099
"""
KEMDY19_ECG_M = """0.5,13:00:03.250,3.250,Sess01_script01_M001
1.0,13:00:03.750,3.750,Sess01_script01_M001
1.5,13:00:04.250,4.250,Sess01_script01_M001
2.0,13:00:04.750,4.750,Sess01_script01_M001
0.3
3.0,13:00:05.300,5.300,Sess01_script01_M002
1.0,13:00:05.700,5.700,Sess01_script01_M002
50.0,13:00:01.000,1.000,Sess01_script01_F001
60.0,13:00:02.000,2.000,Sess01_script01_F001
"""
# EDA of the female actor with an E4 header: start unix time, then 2 Hz.
KEMDY19_EDA_F = """1560000000.000000
2.000000
0.30
0.2,2019-06-08 13:00:00.5,0.5,Sess01_script01_F001
0.4,2019-06-08 13:00:01.0,1.0,Sess01_script01_F001
0.9,2019-06-08 13:00:01.5,1.5,Sess01_script01_F001
0.35
"""

# --- KEMDy20 ----------------------------------------------------------------------------------
# (segment id as written in the file, start, end, total emotion, raters, wav name on disk)
KEMDY20_FILES = {
    1: [
        ("Sess01_script01_User002M_001", 0.00, 1.20, "neutral", [("neutral", 9), ("happy", 1)], None),
        ("Sess01_script01_User001F_001", 1.50, 3.00, "disqust", [("disqust", 6), ("angry", 2), ("neutral", 2)], None),
        ("Sess01_script01_User002M_002", 3.20, 4.00, "neutral;angry", [("neutral", 4), ("angry", 4), ("sad", 2)], None),
    ],
    17: [
        # Wrong session prefix in Sess17_eval.csv: wav stored under the corrected id ...
        ("Sess16_script02_User033F_001", 0.00, 2.00, "happy", [("happy", 8), ("neutral", 2)], "Sess17_script02_User033F_001"),
        # ... or under the id as written.
        ("Sess16_script02_User034M_001", 2.50, 3.50, "sad", [("sad", 7), ("neutral", 3)], "Sess16_script02_User034M_001"),
        ("Sess17_script02_User033F_002", 4.00, 5.00, "neutral", [("neutral", 10)], None),
    ],
}
KEMDY20_TRANSCRIPTS = {  # written in cp949
    "Sess01_script01_User002M_001": "안녕하세요 b/",
    "Sess01_script01_User001F_001": "으 싫어+ 싫어",
    "Sess01_script01_User002M_002": "왜 그래",
    "Sess17_script02_User033F_001": "좋아요",
    "Sess17_script02_User034M_001": "슬퍼요",
    "Sess17_script02_User033F_002": "네",
}
# E4 EDA at 8 Hz (not 4): the participant's own wrist and the partner's wrist.
KEMDY20_EDA_USER002M = """1600000000.000000
8.000000
0.40
0.41
0.5,2020-09-13 10:00:00.250,Sess01_script01_User002M_001
0.7,2020-09-13 10:00:00.375,Sess01_script01_User002M_001
1.2,2020-09-13 10:00:00.500,Sess01_script01_User002M_001
0.45
"""
KEMDY20_EDA_USER001F = """1600000000.000000
8.000000
9.0,2020-09-13 10:00:00.000,Sess01_script01_User002M_001
9.5,2020-09-13 10:00:00.125,Sess01_script01_User002M_001
3.0,2020-09-13 10:00:00.250,Sess01_script01_User001F_001
3.0,2020-09-13 10:00:00.375,Sess01_script01_User001F_001
3.0,2020-09-13 10:00:00.500,Sess01_script01_User001F_001
"""
# IBI: one header line, then offset,ibi[,timestamp,segment].
KEMDY20_IBI_USER002M = """1600000000.000000, IBI
0.50,0.65
1.00,0.60,2020-09-13 10:00:01,Sess01_script01_User002M_001
2.00,0.80,2020-09-13 10:00:02,Sess01_script01_User002M_001
3.00,0.70,2020-09-13 10:00:03,Sess01_script01_User002M_001
"""
# Session 17 EDA, 4 Hz, tagged with the id as written in the annotation (wrong prefix).
KEMDY20_EDA_SESS17_USER033F = """1600100000.000000
4.000000
2.0,2020-09-20 10:00:00.00,Sess16_script02_User033F_001
2.5,2020-09-20 10:00:00.25,Sess16_script02_User033F_001
"""


def write_wav(path: Path, seconds: float = 0.05, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.sin(np.arange(int(seconds * rate)) * 0.05).astype(np.float32) * 0.1
    soundfile.write(str(path), samples, rate)


def expand_raters(raters) -> list[str]:
    words = [word for word, count in raters for _ in range(count)]
    assert len(words) == RATERS, words
    return words


def write_annotation(path: Path, rows: list[list], header_1: list[str], header_2: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header_1), ",".join(header_2)]
    lines += [",".join(str(field) for field in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def edit_fields(path: Path, line_number: int, edit) -> None:
    """Rewrite line `line_number` (1-based) of a CSV written above: `edit(fields) -> fields`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[line_number - 1].split(",")
    lines[line_number - 1] = ",".join(edit(fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_field(position: int, value: str):
    def edit(fields):
        fields[position] = value
        return fields

    return edit


def _rater_fields(raters) -> list:
    fields = []
    for word in expand_raters(raters):
        fields += [word, 3, 3] if word else ["", "", ""]
    return fields


def kemdy19_headers():
    first = ["Numb", "Wav", "", "ECG", "", "E4-EDA", "", "E4-TEMP", "", "Segment ID", "Total Evaluation", "", ""]
    second = ["", "start", "end"] + ["start", "end"] * 3 + ["", "Emotion", "Valence", "Arousal"]
    for k in range(1, RATERS + 1):
        first += [f"Eval{k:02d}", "", ""]
        second += ["Emotion", "Valence", "Arousal"]
    return first, second


def kemdy19_row(numb, segment, start, end, emotion, raters, valence, arousal) -> list:
    sensors = [0.61, 0.62, 1.1, 1.2, 33.1, 33.2]  # sensor values at start/end: not used by the index
    return [numb, f"{start:.2f}", f"{end:.2f}", *sensors, segment, emotion, valence, arousal, *_rater_fields(raters)]


def write_kemdy19_tree(root: Path) -> Path:
    """Sessions 01 and 02. Each actor's file lists every segment of the session; the other
    actor's rows carry the listener's (different) emotion."""
    root = Path(root)
    header_1, header_2 = kemdy19_headers()
    for session in (1, 2):
        in_session = [s for s in KEMDY19_SEGMENTS if s[0].startswith(f"Sess{session:02d}_")]
        for gender in "FM":
            rows = []
            for numb, (segment, start, end, own, raters, listener) in enumerate(in_session, start=1):
                if segment.split("_")[2][0] == gender:
                    valence, arousal = KEMDY19_VA[segment]
                    rows.append(kemdy19_row(numb, segment, start, end, own, raters, valence, arousal))
                else:
                    rows.append(kemdy19_row(numb, segment, start, end, listener, [(listener, 10)], 1.0, 1.0))
            write_annotation(root / "annotation" / f"Session{session:02d}_{gender}_res.csv", rows, header_1, header_2)
        for segment, *_ in in_session:
            dialogue = segment.rsplit("_", 1)[0]
            base = root / "wav" / f"Session{session:02d}" / dialogue / segment
            write_wav(base.with_suffix(".wav"))
            base.with_suffix(".txt").write_text(KEMDY19_TRANSCRIPTS[segment] + "\n", encoding="utf-8")
    original = Path("Session01") / "Original"
    for folder, name, text in (
        ("ECG", "Sess01F.csv", KEMDY19_ECG_F),
        ("ECG", "Sess01M.csv", KEMDY19_ECG_M),
        ("EDA", "Sess01F.csv", KEMDY19_EDA_F),
    ):
        path = root / folder / original / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def kemdy20_headers():
    first = ["Numb", "Wav", "", "Segment ID", "Total Evaluation", "", ""]
    second = ["", "start", "end", "", "Emotion", "Valence", "Arousal"]
    for k in range(1, RATERS + 1):
        first += [f"Eval{k:02d}{'F' if k % 2 else 'M'}", "", ""]
        second += ["Emotion", "Valence", "Arousal"]
    return first, second


def write_kemdy20_tree(root: Path) -> Path:
    """Sessions 01 and 17 (wrong prefixes); cp949 transcripts; `disqust`; 8 Hz E4 EDA; IBI."""
    root = Path(root)
    header_1, header_2 = kemdy20_headers()
    for session, segments in KEMDY20_FILES.items():
        rows = []
        for numb, (segment, start, end, emotion, raters, _) in enumerate(segments, start=1):
            rows.append([numb, f"{start:.2f}", f"{end:.2f}", segment, emotion, 3.0, 3.2, *_rater_fields(raters)])
        write_annotation(root / "annotation" / f"Sess{session:02d}_eval.csv", rows, header_1, header_2)
        for segment, *_, wav_name in segments:
            corrected = f"Sess{session:02d}" + segment[len("SessNN"):]
            base = root / "wav" / f"Session{session:02d}" / (wav_name or segment)
            write_wav(base.with_suffix(".wav"))
            base.with_suffix(".txt").write_bytes(KEMDY20_TRANSCRIPTS[corrected].encode("cp949"))
    for folder, session, name, text in (
        ("EDA", 1, "Sess01_script01_User002M.csv", KEMDY20_EDA_USER002M),
        ("EDA", 1, "Sess01_script01_User001F.csv", KEMDY20_EDA_USER001F),
        ("IBI", 1, "Sess01_script01_User002M.csv", KEMDY20_IBI_USER002M),
        ("EDA", 17, "Sess17_script02_User033F.csv", KEMDY20_EDA_SESS17_USER033F),
    ):
        path = root / folder / f"Session{session:02d}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
