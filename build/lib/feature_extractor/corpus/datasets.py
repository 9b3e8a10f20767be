"""The known corpus layouts and how a corpus root is recognised from its annotation file names."""

from pathlib import Path

from feature_extractor.corpus import kemdy19, kemdy20
from feature_extractor.corpus.errors import CorpusError
from feature_extractor.corpus.layout import ANNOTATION_FOLDER, CorpusLayout, annotation_files

LAYOUTS: dict[str, CorpusLayout] = {kemdy19.NAME: kemdy19.LAYOUT, kemdy20.NAME: kemdy20.LAYOUT}
EXPECTED_NAMES = "SessionNN_F_res.csv / SessionNN_M_res.csv (KEMDy19) or SessNN_eval.csv (KEMDy20)"


def corpus_layout(root: Path, dataset: str | None) -> CorpusLayout:
    """The layout named by `dataset`, or the one whose annotation file names the root holds."""
    folder = Path(root) / ANNOTATION_FOLDER
    if not folder.is_dir():
        raise CorpusError("no annotation folder", folder, expected=f"a folder of {EXPECTED_NAMES}")
    if dataset is not None:
        if dataset not in LAYOUTS:
            raise CorpusError(f"unknown dataset {dataset!r}", expected=" or ".join(LAYOUTS))
        candidates = [LAYOUTS[dataset]]
    else:
        candidates = list(LAYOUTS.values())
    found = [layout for layout in candidates if annotation_files(root, layout.annotation_file)]
    if len(found) != 1:
        what = "no annotation files" if not found else "annotation files of both KEMDy19 and KEMDy20"
        wanted = EXPECTED_NAMES if dataset is None else f"{dataset} annotation files"
        raise CorpusError(what, folder, expected=wanted)
    return found[0]
