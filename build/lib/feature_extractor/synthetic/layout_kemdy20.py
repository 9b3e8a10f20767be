"""Writing a plan as a raw KEMDy20 tree (layout of /work/shared/KEMDY_FORMAT.md):

    annotation/SessNN_eval.csv                 two header rows, 37 columns, one file per session
    wav/SessionNN/<segment>.wav + .txt         flat per session; transcripts in cp949
    EDA|TEMP|IBI/SessionNN/<dialogue>_<user>.csv   see signal_files.py

Rows are sorted by segment id. Emotions are written with the corpus's own spelling (`disqust`).
Rater column names carry a gender (`Eval01F`) and the rater set changes every 10 sessions.
Quirk reproduced: `Sess17_eval.csv` writes the ids of its first dialogue with a wrong session
prefix (`Sess18_...`); the wav files keep the right names (the file's own session wins)."""

from pathlib import Path

from feature_extractor.synthetic.layout_kemdy19 import rating_cells, write_csv
from feature_extractor.synthetic.plan import CorpusPlan
from feature_extractor.synthetic.rendering import write_utterance
from feature_extractor.synthetic.signal_files import write_kemdy20_dialogue

ANNOTATION_COLUMNS = 37
TRANSCRIPT_ENCODING = "cp949"
WRONG_PREFIX_SESSION = 17
WRONG_PREFIX = "Sess18_"


def annotation_header(rater_names) -> list:
    first = ["Numb", "Wav", "", "Segment ID", "Total Evaluation", "", ""]
    second = ["", "start", "end", "", "Emotion", "Valence", "Arousal"]
    for name in rater_names:
        first += [name, "", ""]
        second += ["Emotion", "Valence", "Arousal"]
    return [first, second]


def write_kemdy20(root: Path, plan: CorpusPlan) -> int:
    """Write the whole tree under `root`; return the number of audio samples written."""
    samples = 0
    for session in plan.preset.sessions:
        write_annotation(root, plan, session)
        folder = root / "wav" / f"Session{session:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for index, dialogue in enumerate(plan.dialogues):
            if dialogue.session != session:
                continue
            write_kemdy20_dialogue(root, plan, index)
            for utterance in dialogue.utterances:
                samples += write_utterance(folder, plan, index, utterance, TRANSCRIPT_ENCODING)
    return samples


def written_segment_id(plan: CorpusPlan, session: int, segment_id: str) -> str:
    """The id as the annotation file writes it (wrong prefix in the first Sess17 dialogue)."""
    dialogues = plan.session_dialogues(session)
    if session == WRONG_PREFIX_SESSION and segment_id.startswith(dialogues[0].dialogue_id + "_"):
        return WRONG_PREFIX + segment_id.split("_", 1)[1]
    return segment_id


def write_annotation(root: Path, plan: CorpusPlan, session: int) -> None:
    utterances = sorted(
        (u for d in plan.session_dialogues(session) for u in d.utterances), key=lambda u: u.segment_id
    )
    rows = annotation_header(plan.rater_names[session])
    for number, utterance in enumerate(utterances, start=1):
        rows.append(
            [str(number), f"{utterance.start_ms / 1000:.3f}", f"{utterance.end_ms / 1000:.3f}",
             written_segment_id(plan, session, utterance.segment_id)]
            + rating_cells(plan, utterance.rating)
        )
    write_csv(root / "annotation" / f"Sess{session:02d}_eval.csv", rows, ANNOTATION_COLUMNS)
