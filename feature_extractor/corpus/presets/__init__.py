"""Readers for the corpus releases users have, as presets of the utterance table
(utterance_table.py): each is a TableSpec plus a step that fixes the release's rows.

    result = read_preset("meld", "data/MELD")            # an IndexResult
    result = read_preset("iemocap", "data/IEMOCAP_full_release", classes=4)

The formats and their quirks: ../shared/CORPUS_FORMATS.md; what each preset does: docs/corpus.md."""

import difflib

from erc_core.errors import UserError
from feature_extractor.corpus.presets.emorynlp import read_emorynlp
from feature_extractor.corpus.presets.iemocap import read_iemocap
from feature_extractor.corpus.presets.meld import read_meld

PRESETS = {"meld": read_meld, "emorynlp": read_emorynlp, "iemocap": read_iemocap}


def read_preset(name: str, folder, **options):
    """The index of the release in `folder` read by preset `name`; `options` go to the preset
    (iemocap: classes, dev_rule)."""
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name), sorted(PRESETS), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise UserError(f"unknown preset {name!r}{hint}; expected one of {', '.join(PRESETS)}")
    return PRESETS[name](folder, **options)


__all__ = ["PRESETS", "read_emorynlp", "read_iemocap", "read_meld", "read_preset"]
