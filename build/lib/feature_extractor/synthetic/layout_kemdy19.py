"""Writing a plan as a raw KEMDy19 tree (layout of /work/shared/KEMDY_FORMAT.md):

    annotation/SessionNN_F_res.csv, SessionNN_M_res.csv   two header rows, 43 columns
    wav/SessionNN/SessNN_<dialogue>/<segment>.wav + .txt  16 kHz PCM16, UTF-8 one-line transcript
    ECG|EDA|TEMP/SessionNN/Original/SessNN{F,M}.csv       see signal_files.py

Each `_res` file lists every segment of the session, sorted by segment id (so file order is not
turn order). A row of the file's own actor carries that actor's ratings; a row of the other
actor's segment carries the ratings of this actor as *listener*. The ECG / E4-EDA / E4-TEMP cells
hold this actor's sensor values at the segment's start and end (empty where not covered)."""

import csv
from pathlib import Path

from feature_extractor.synthetic.plan import CorpusPlan, SegmentRating
from feature_extractor.synthetic.rendering import write_utterance
from feature_extractor.synthetic.signal_files import write_kemdy19_session

ANNOTATION_COLUMNS = 43
TRANSCRIPT_ENCODING = "utf-8"


def annotation_header(rater_names) -> list:
    first = ["Numb", "Wav", "", "ECG", "", "E4-EDA", "", "E4-TEMP", "", "Segment ID", "Total Evaluation", "", ""]
    second = ["", "start", "end", "start", "end", "start", "end", "start", "end", "", "Emotion", "Valence", "Arousal"]
    for name in rater_names:
        first += [name, "", ""]
        second += ["Emotion", "Valence", "Arousal"]
    return [first, second]


def write_kemdy19(root: Path, plan: CorpusPlan) -> int:
    """Write the whole tree under `root`; return the number of audio samples written."""
    samples = 0
    for session in plan.preset.sessions:
        readings = write_kemdy19_session(root, plan, session)
        write_annotations(root, plan, session, readings)
        for index, dialogue in enumerate(plan.dialogues):
            if dialogue.session != session:
                continue
            folder = root / "wav" / f"Session{session:02d}" / dialogue.dialogue_id
            folder.mkdir(parents=True, exist_ok=True)
            for utterance in dialogue.utterances:
                samples += write_utterance(folder, plan, index, utterance, TRANSCRIPT_ENCODING)
    return samples


def write_annotations(root: Path, plan: CorpusPlan, session: int, readings: dict) -> None:
    """SessionNN_F_res.csv and SessionNN_M_res.csv; `readings`: gender -> SensorReadings."""
    entries = sorted(
        ((u.segment_id, d.speakers[u.speaker].gender, u) for d in plan.session_dialogues(session) for u in d.utterances),
        key=lambda entry: entry[0],
    )
    for actor in ("F", "M"):
        rows = annotation_header(plan.rater_names[session])
        for number, (segment_id, speaker_gender, utterance) in enumerate(entries, start=1):
            rating = utterance.rating if speaker_gender == actor else utterance.listener_rating
            rows.append(
                [str(number), _seconds(utterance.start_ms), _seconds(utterance.end_ms)]
                + readings[actor].cells(segment_id)
                + [segment_id]
                + rating_cells(plan, rating)
            )
        path = root / "annotation" / f"Session{session:02d}_{actor}_res.csv"
        write_csv(path, rows, ANNOTATION_COLUMNS)


def rating_cells(plan: CorpusPlan, rating: SegmentRating) -> list:
    """Total Evaluation (emotion, valence, arousal) then each rater's (emotion, valence, arousal)."""
    cells = [plan.written(rating), repr(round(rating.valence_mean, 2)), repr(round(rating.arousal_mean, 2))]
    for vote, valence, arousal in zip(rating.votes, rating.valence, rating.arousal):
        cells += [plan.word(vote), str(valence), str(arousal)]
    return cells


def write_csv(path: Path, rows: list, columns: int) -> None:
    wrong = [i for i, row in enumerate(rows) if len(row) != columns]
    if wrong:
        raise ValueError(f"{path}: row {wrong[0] + 1} has {len(rows[wrong[0]])} cells, expected {columns}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _seconds(milliseconds: int) -> str:
    return f"{milliseconds / 1000:.3f}"
