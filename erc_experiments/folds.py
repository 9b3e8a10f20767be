"""Session folds for the runner: which sessions are test, dev and train in fold I of K.

The rule is `feature_extractor.corpus.splits` (the one used by `kemdy-index --folds K
--fold I`): the sessions present, in order, are cut into K contiguous blocks (sizes differ by at
most one, earlier blocks the larger); test = block I, dev = block (I + 1) mod K, train = the rest.
So dev always comes from sessions that are not test, and every session is test in exactly one fold.

Index mode rewrites the `split` column of an index (`write_fold_index`); pickle mode reads each
dialogue's session from its id (`Sess03_...`, also IEMOCAP's `Ses03F_...`) and re-splits the
pickle's dialogues (`fold_dialogues`). An index read from a table without a session column has
session 0 on every row, so there index mode takes the session from the dialogue id too: one corpus
gets the same folds in both modes (`index_sessions`)."""

import re
from pathlib import Path

from erc_core.errors import UserError
from feature_extractor.corpus.splits import ResolvedSplit, SplitConfig, resolve_split

SESSION_ID = re.compile(r"^Sess?(\d+)", re.IGNORECASE)


def fold_split(sessions, folds: int, fold: int) -> ResolvedSplit:
    """Train / dev / test sessions of fold `fold` of `folds` over the sessions present."""
    # the dataset name only picks default held-out sessions, which k-fold does not use
    return resolve_split(SplitConfig(folds=folds, fold=fold), dataset="", sessions=sessions)


def dialogue_session(dialogue_id: str, source, hint: str = "use folds=0 for the pickle's own split") -> int:
    match = SESSION_ID.match(dialogue_id)
    if match is None:
        raise UserError(f"{source}: dialogue {dialogue_id!r} carries no session number (expected an id such as "
                        f"'Sess03_script01'); session folds need one, {hint}")
    return int(match.group(1))


def index_sessions(frame, meta: dict, source):
    """The session of every row of an index (`frame` and its meta, read from `source`), in row order."""
    spec = meta.get("resolved", {}).get("spec")
    if spec is None or spec.get("session") is not None:
        return frame["session"]
    hint = "name the table's session column (session=COLUMN) or use folds=0 for the table's own split"
    return frame["dialogue_id"].map(lambda dialogue: dialogue_session(dialogue, source, hint))


def fold_dialogues(dialogues, folds: int, fold: int, source):
    """(the dialogues with the split of this fold, the fold's sessions). Dialogues of the `predict`
    split carry no labels and are left out."""
    labelled = [d for d in dialogues if d["split"] != "predict"]
    sessions = {d["dialogue_id"]: dialogue_session(d["dialogue_id"], source) for d in labelled}
    split = fold_split(sessions.values(), folds, fold)
    names = {s: "train" for s in split.train} | {s: "dev" for s in split.dev} | {s: "test" for s in split.test}
    return [{**d, "split": names[sessions[d["dialogue_id"]]]} for d in labelled], split


def write_fold_index(index_dir, folds: int, fold: int, out_dir) -> ResolvedSplit:
    """A copy of the index in `index_dir` whose split column is that of fold `fold` (utterances,
    skipped rows and the corpus root unchanged), written with the index writer into `out_dir`."""
    from feature_extractor.corpus import read_index, read_index_meta, read_skipped, write_index
    from feature_extractor.corpus.index_builder import IndexResult
    from feature_extractor.corpus.index_io import index_label_names

    meta = read_index_meta(index_dir)
    frame = read_index(index_dir).drop(columns=["wav_file"])
    sessions = index_sessions(frame, meta, index_dir)
    split = fold_split(sessions, folds, fold)
    frame["split"] = split.split_of(sessions)
    reader_options = {key: value for key, value in meta.get("resolved", {}).items()
                      if key not in ("dataset", "label_names")}
    result = IndexResult(frame=frame, skipped=read_skipped(index_dir), dataset=meta["dataset"],
                         corpus_root=Path(meta["corpus_root"]), label_names=index_label_names(index_dir, meta),
                         options={**reader_options, "split": split.as_dict()}, notes=meta.get("notes", {}))
    options = {**meta.get("options", {}), "folds": folds, "fold": fold, "refolded_from": str(index_dir)}
    write_index(result, out_dir, options)
    return split


def sessions_text(sessions) -> str:
    return ", ".join(str(s) for s in sessions)
