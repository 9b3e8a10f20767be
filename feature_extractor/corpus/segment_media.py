"""Find each segment's wav and transcript; anything unusable becomes a skip reason.

A wav is only opened with soundfile.info (header, no decoding). The transcript is the `.txt`
with the same name next to the wav. Reasons, checked in this order (the first one counts):
  "missing wav", "unreadable wav" (soundfile cannot open it), "empty wav" (zero frames),
  "missing transcript", "undecodable transcript" (neither UTF-8 nor cp949).
An empty transcript (or one that is only markup) is not a reason: the utterance keeps its place
in the conversation with `text` "" and its audio."""

from pathlib import Path

import pandas as pd
import soundfile

from feature_extractor.corpus.transcripts import UndecodableTranscript, clean_transcript, read_transcript


def attach_media(root: Path, segments: pd.DataFrame) -> pd.DataFrame:
    """Columns `wav_path` (the one found, relative to root), `text_raw`, `text`, `skip_reason`
    ("" when usable) and `skip_file` (the file the reason is about), indexed like `segments`."""
    root = Path(root)
    found = [
        _one_segment(root, primary, alternative)
        for primary, alternative in zip(segments["wav_path"], segments["wav_path_alt"])
    ]
    return pd.DataFrame(found, index=segments.index, columns=["wav_path", "text_raw", "text", "skip_reason", "skip_file"])


def _one_segment(root: Path, primary: str, alternative: str):
    wav = next((p for p in (primary, alternative) if p and (root / p).is_file()), None)
    if wav is None:
        return primary, "", "", "missing wav", primary
    reason = _wav_problem(root / wav)
    if reason:
        return wav, "", "", reason, wav
    transcript = str(Path(wav).with_suffix(".txt").as_posix())
    if not (root / transcript).is_file():
        return wav, "", "", "missing transcript", transcript
    try:
        text_raw = read_transcript(root / transcript)
    except UndecodableTranscript:
        return wav, "", "", "undecodable transcript", transcript
    return wav, text_raw, clean_transcript(text_raw), "", ""


def _wav_problem(path: Path) -> str:
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError):
        return "unreadable wav"
    return "empty wav" if info.frames == 0 else ""
