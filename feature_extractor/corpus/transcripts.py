"""Read a KEMDy transcript and clean its transcription markup.

Reading: UTF-8 (a BOM is allowed) first, cp949 as the fallback (KEMDy20 writes cp949). Lines are
joined with one space and the ends stripped; that string is `text_raw`.

Cleaning (`text`), in this order:
  1. dual transcription `(A)/(B)` keeps the first alternative A
     (`(3시)/(세 시)에 가자` -> `3시에 가자`);
  2. a parenthesised group holding markup keeps its cleaned content without the parentheses
     (`그런(건데+u/)` -> `그런건데`); other parentheses stay;
  3. the noise / breath / laughter-type tags `c/ n/ N/ u/ l/ b/ o/ I/ s/` are removed where no
     letter or digit precedes them, also when glued together or to punctuation
     (`l/ 아 진짜?` -> `아 진짜?`, `N/I/ 음` -> `음`, `거야.b/` -> `거야.`; a letter inside a word
     such as `ab/` is kept), and so is a tag written backwards as a word of its own (`/n`);
  4. the markers `*` and `+` are removed, the word they mark is kept (`가+ 가자` -> `가 가자`);
  5. runs of white space become one space; the ends are stripped.
A transcript that is only markup cleans to "" and is kept, like an empty one (its audio still
carries emotion)."""

import re
from pathlib import Path

DUAL_TRANSCRIPTION = re.compile(r"\(([^()]*)\)\s*/\s*\(([^()]*)\)")
TAG_LETTERS = "cnNulboIs"
MARKUP_TAG = re.compile(rf"(?<!\w)[{TAG_LETTERS}]/")
BACKWARDS_TAG = re.compile(rf"(?<!\S)/[{TAG_LETTERS}](?!\S)")
MARKERS = re.compile(r"[*+]")
GROUP = re.compile(r"\(([^()]*)\)")
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
    text = GROUP.sub(_unwrap_marked_group, text)
    return WHITESPACE.sub(" ", _strip_markup(text)).strip()


def _unwrap_marked_group(group: re.Match) -> str:
    inside = group.group(1)
    cleaned = _strip_markup(inside)
    return cleaned if cleaned != inside else group.group(0)


def _strip_markup(text: str) -> str:
    previous = None
    while previous != text:  # tags can follow each other without a space: `N/I/ 음`
        previous, text = text, MARKUP_TAG.sub(" ", text)
    text = BACKWARDS_TAG.sub(" ", text)
    return MARKERS.sub("", text)
