"""Read a KEMDy transcript and clean its transcription markup.

Reading: UTF-8 (a BOM is allowed) first, cp949 as the fallback (KEMDy20 writes cp949). Lines are
joined with one space and the ends stripped; that string is `text_raw`.

Cleaning (`text`), in this order:
  1. dual transcription `(A)/(B)` keeps the first alternative A
     (`(3시)/(세 시)에 가자` -> `3시에 가자`);
  2. the noise / breath / laughter-type tags `c/ n/ N/ u/ l/ b/ o/ I/` are removed where they
     start a word, also when glued together (`l/ 아 진짜?` -> `아 진짜?`, `N/I/ 음` -> `음`;
     a letter inside a word such as `ab/` is kept);
  3. the markers `*` and `+` are removed, the word they mark is kept (`가+ 가자` -> `가 가자`);
  4. runs of white space become one space; the ends are stripped.
A transcript that is only markup cleans to "" and is kept (its audio still carries emotion);
only a transcript whose raw text is empty counts as an "empty transcript"."""

import re
from pathlib import Path

DUAL_TRANSCRIPTION = re.compile(r"\(([^()]*)\)\s*/\s*\(([^()]*)\)")
MARKUP_TAG = re.compile(r"(?<![^\s(])[cnNulboI]/")
MARKERS = re.compile(r"[*+]")
WHITESPACE = re.compile(r"\s+")


class UndecodableTranscript(ValueError):
    """The transcript bytes are neither UTF-8 nor cp949."""


def read_transcript(path: Path) -> str:
    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UndecodableTranscript(f"{path}: neither UTF-8 nor cp949")
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def clean_transcript(text: str) -> str:
    text = DUAL_TRANSCRIPTION.sub(r"\1", text)
    previous = None
    while previous != text:  # tags can follow each other without a space: `N/I/ 음`
        previous, text = text, MARKUP_TAG.sub(" ", text)
    text = MARKERS.sub("", text)
    return WHITESPACE.sub(" ", text).strip()
