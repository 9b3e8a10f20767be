"""IEMOCAP's release layout (`IEMOCAP_full_release/`) -> the utterance index.

Built from the documented format (CORPUS_FORMATS.md, as public preparation scripts read it) and
tested on generated trees; not checked on a real release here. A line that differs from the
format where it matters fails with the file and line.

    Session1/dialog/transcriptions/Ses01F_impro01.txt
        Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.
    Session1/dialog/EmoEvaluation/Ses01F_impro01.txt
        [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]
    Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav

- Utterances are the transcription lines with a time span and an id `<dialogue>_{F|M}NNN`;
  other lines (noises, overlaps `..._MXX0`) are not utterances (counted in the notes).
- Label, valence and arousal come from the EmoEvaluation block's first line (majority label,
  [valence, activation, dominance]). Classes: 6 = hap, sad, neu, ang, exc, fru; 4 = hap, sad,
  neu, ang with exc merged into hap. Other majority labels (sur, fea, dis, oth, xxx, and fru /
  exc under 4) are skipped with reason label_not_in_set.
- Skipped as well: no_label (no EmoEvaluation entry), missing_transcript (an evaluated
  utterance without a transcription line), empty_text, missing_wav.
- Speaker = session + the F/M letter of the utterance id (`Ses01_F`); order = start time (ties
  broken by end time, then id).
- Split: session 5 is test. Dev, `dev_rule="sorted"` (default): the first 10 % (rounded down)
  of the other sessions' dialogue ids in sorted order; `"cogmen"`: the 12 dev dialogues of the
  COGMEN IEMOCAP pickle's split (COGMEN_DEV, the split of ../shared/benchmarks/)."""

import re
from pathlib import Path

import pandas as pd

from feature_extractor.corpus.errors import CorpusError, display_path
from feature_extractor.corpus.utterance_table import TableSpec, index_from_rows

CLASSES = {6: ["hap", "sad", "neu", "ang", "exc", "fru"], 4: ["hap", "sad", "neu", "ang"]}
LABEL_MAP = {6: {}, 4: {"exc": "hap"}}
MAJORITY_LABELS = ("neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis", "oth", "xxx")
TEST_SESSION = 5
DEV_RULE_TEXT = {"sorted": "the first 10% (rounded down) of the other dialogues, ids sorted",
                 "cogmen": "the 12 dev dialogues of the COGMEN IEMOCAP pickle"}
DEV_RULES = tuple(DEV_RULE_TEXT)
COGMEN_DEV = (
    "Ses01M_impro01", "Ses01M_script03_1", "Ses02F_impro02", "Ses02F_impro07", "Ses02M_script01_2",
    "Ses03F_impro01", "Ses03M_impro02", "Ses03M_impro08a", "Ses03M_script02_2", "Ses03M_script03_2",
    "Ses04F_impro07", "Ses04F_script02_1",
)
UTTERANCE_ID = re.compile(r"(?P<dialogue>Ses(?P<session>\d\d)[FM]_\w+?)_(?P<gender>[FM])\d{3}")
TRANSCRIPT_LINE = re.compile(r"(?P<id>\S+)\s*\[(?P<start>\d+(?:\.\d*)?)\s*-\s*(?P<end>\d+(?:\.\d*)?)\]:(?P<text>.*)")
EVALUATION_LINE = re.compile(
    r"\[(?P<start>\d+(?:\.\d*)?)\s*-\s*(?P<end>\d+(?:\.\d*)?)\]\t(?P<id>\S+)\t(?P<label>\w+)\t"
    r"\[(?P<valence>\d+(?:\.\d*)?),\s*(?P<arousal>\d+(?:\.\d*)?),\s*(?P<dominance>\d+(?:\.\d*)?)\]")
SPEC_FIELDS = dict(dialogue="dialogue", order="order", speaker="speaker", gender="gender", text="text",
                   label="label", split="split", segment_id="utterance", start="start", end="end",
                   valence="valence", arousal="arousal", session="session")


def read_iemocap(folder, classes: int = 6, dev_rule: str = "sorted"):
    folder = Path(folder).resolve()
    if classes not in CLASSES or dev_rule not in DEV_RULES:
        raise CorpusError(f"classes={classes!r}, dev_rule={dev_rule!r}",
                          expected=f"classes 6 or 4, dev_rule one of {', '.join(DEV_RULES)}")
    transcripts = sorted(p for p in folder.glob("Session*/dialog/transcriptions/*.txt") if not p.name.startswith("."))
    if not transcripts:
        raise CorpusError("no Session*/dialog/transcriptions/*.txt", folder, expected="the IEMOCAP_full_release layout")
    skipped, ignored, parts = [], 0, []
    for path in transcripts:
        utterances, not_utterances = read_transcription(path)
        ignored += not_utterances
        parts.append(labelled(utterances, path.parent.parent / "EmoEvaluation" / path.name, folder, skipped))
    rows = with_order_and_split(pd.concat(parts, ignore_index=True), dev_rule)
    rows, skipped = without_empty_text(rows, folder, skipped)
    outside = [label for label in MAJORITY_LABELS if LABEL_MAP[classes].get(label, label) not in CLASSES[classes]]
    spec = TableSpec(**SPEC_FIELDS, labels=CLASSES[classes], label_map=LABEL_MAP[classes], drop_labels=outside)
    if any(folder.glob("Session*/sentences/wav")):
        rows["audio"] = [f"{session_dir}/sentences/wav/{d}/{u}.wav"
                         for session_dir, d, u in zip(rows["session_dir"], rows["dialogue"], rows["utterance"])]
        spec.audio = "audio"
    notes = {"transcription_lines_not_utterances": ignored}
    if spec.audio is None:
        notes["audio"] = "no Session*/sentences/wav folder: text only"
    options = {"preset": "iemocap", "classes": classes, "dev_rule": dev_rule,
               "label_source": f"the {classes}-class setup's order (COGMEN's)",
               "split_rule": f"session {TEST_SESSION} test; dev: {DEV_RULE_TEXT[dev_rule]}"}
    return index_from_rows(rows, spec, "IEMOCAP", folder, options=options, notes=notes, skipped=skipped)


def read_transcription(path: Path) -> tuple[list, int]:
    """The utterance lines of one transcription file, and how many timed lines were not utterances."""
    utterances, ignored = [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        match = TRANSCRIPT_LINE.match(line.strip())
        if match is None:
            continue
        identity = UTTERANCE_ID.fullmatch(match["id"])
        if identity is None:
            ignored += 1
            continue
        if identity["dialogue"] != path.stem:
            raise CorpusError(f"utterance {match['id']!r} is not of dialogue {path.stem!r}", path, number,
                              expected=f"ids {path.stem}_F000 / {path.stem}_M000")
        utterances.append({
            "utterance": match["id"], "dialogue": path.stem, "session": int(identity["session"]),
            "session_dir": path.parents[2].name, "gender": identity["gender"],
            "speaker": f"Ses{identity['session']}_{identity['gender']}", "start": float(match["start"]),
            "end": float(match["end"]), "text": match["text"].strip(), "_file": str(path), "_line": number,
        })
    if not utterances:
        raise CorpusError("no utterance line", path,
                          expected="lines like `Ses01F_impro01_F000 [006.2901-008.2357]: text`")
    return utterances, ignored


def read_evaluation(path: Path) -> dict:
    """utterance id -> (label, valence, arousal) from the block first lines of one EmoEvaluation file."""
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.startswith("["):
            continue
        match = EVALUATION_LINE.match(line.rstrip())
        if match is None:
            raise CorpusError(f"malformed block line {line.strip()[:60]!r}", path, number,
                              expected="[start - end] TAB id TAB label TAB [valence, activation, dominance]")
        if match["label"] not in MAJORITY_LABELS:
            raise CorpusError(f"label {match['label']!r}", path, number,
                              expected="one of " + ", ".join(MAJORITY_LABELS))
        found[match["id"]] = (match["label"], float(match["valence"]), float(match["arousal"]))
    return found


def labelled(utterances: list, evaluation_path: Path, root: Path, skipped: list) -> pd.DataFrame:
    """The utterances with label / valence / arousal; unmatched ones on either side go to `skipped`."""
    rows = pd.DataFrame(utterances)
    evaluations = read_evaluation(evaluation_path) if evaluation_path.is_file() else {}
    known = rows["utterance"].isin(list(evaluations))
    skipped += [{"segment_id": u, "file": display_path(evaluation_path, root), "reason": "no_label"}
                for u in rows.loc[~known, "utterance"]]
    skipped += [{"segment_id": u, "file": display_path(rows["_file"].iloc[0], root), "reason": "missing_transcript"}
                for u in evaluations if u not in set(rows["utterance"])]
    rows = rows[known].copy()
    values = [evaluations[u] for u in rows["utterance"]]
    rows["label"], rows["valence"], rows["arousal"] = ([v[i] for v in values] for i in range(3))
    return rows


def with_order_and_split(rows: pd.DataFrame, dev_rule: str) -> pd.DataFrame:
    rows = rows.sort_values(["dialogue", "start", "end", "utterance"], kind="stable")
    rows["order"] = rows.groupby("dialogue").cumcount()
    train = sorted(set(rows.loc[rows["session"] != TEST_SESSION, "dialogue"]))
    dev = set(train[: len(train) // 10]) if dev_rule == "sorted" else set(COGMEN_DEV)
    rows["split"] = "train"
    rows.loc[rows["dialogue"].isin(dev), "split"] = "dev"
    rows.loc[rows["session"] == TEST_SESSION, "split"] = "test"
    return rows


def without_empty_text(rows: pd.DataFrame, root: Path, skipped: list):
    empty = rows["text"] == ""
    skipped += [{"segment_id": u, "file": display_path(f, root), "reason": "empty_text"}
                for u, f in zip(rows.loc[empty, "utterance"], rows.loc[empty, "_file"])]
    return rows[~empty], skipped
