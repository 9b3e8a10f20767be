"""The runner's two kinds of input and the per-fold inputs made from them.

Pickle mode: a conversation pickle; fold I is a copy re-split by sessions
(`<run_dir>/folds/fold<I>.pkl`, written through cgnn.conversation_pickle). Index mode: an index
folder (KEMDy or table); fold I is a copy with the fold's split column (`<run_dir>/folds/fold<I>/index/`).
With folds=0 the input is used as it is. Every fold is checked before any run starts."""

from dataclasses import dataclass
from pathlib import Path

from erc_core.errors import UserError
from erc_core.files import file_sha256
from erc_experiments.folds import fold_dialogues, fold_split, index_sessions, write_fold_index
from erc_experiments.leakage import check_fold_against_stage1


@dataclass
class FoldInput:
    fold: int | None       # None: the data's own split
    path: Path                # the pickle (pickle mode) or index folder (index mode) of this fold
    sessions: dict | None  # {'train', 'dev', 'test'}: session lists of this fold (k-fold only)


class PickleSource:
    mode = "pickle"

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"data.pickle={self.path}: conversation pickle not found")

    def describe(self) -> dict:
        return {"mode": self.mode, "path": str(self.path), "sha256": file_sha256(self.path)}

    def prepare_folds(self, run_dir, folds: int) -> list:
        from cgnn.conversation_pickle import read_conversations, write_conversations

        data = read_conversations(self.path)
        if not folds:
            check_fold_against_stage1(data.dialogues, data.config, f"{self.path}")
            return [FoldInput(None, self.path, None)]
        made = []
        for fold in range(folds):
            dialogues, split = fold_dialogues(data.dialogues, folds, fold, self.path)
            check_fold_against_stage1(dialogues, data.config, f"{self.path} fold {fold} of {folds}")
            made.append((fold, dialogues, split))
        inputs = []
        for fold, dialogues, split in made:
            out = Path(run_dir) / "folds" / f"fold{fold}.pkl"
            if not out.is_file():
                config = {**data.config, "runner_fold": {"source": str(self.path), "folds": folds, "fold": fold,
                                                         "sessions": split.as_dict()}}
                write_conversations(out, dialogues, data.label_names, config)
            inputs.append(FoldInput(fold, out, split.as_dict()))
        return inputs


class IndexSource:
    mode = "index"

    def __init__(self, path):
        self.path = Path(path)
        if not (self.path / "index.csv").is_file():
            raise UserError(f"data.index={self.path}: no index.csv there (build one with kemdy-index)")

    def describe(self) -> dict:
        return {"mode": self.mode, "path": str(self.path), "sha256": file_sha256(self.path / "index.csv")}

    def prepare_folds(self, run_dir, folds: int) -> list:
        if not folds:
            return [FoldInput(None, self.path, None)]
        from feature_extractor.corpus import read_index, read_index_meta

        sessions = index_sessions(read_index(self.path), read_index_meta(self.path), self.path)
        inputs = []
        for fold in range(folds):
            out = Path(run_dir) / "folds" / f"fold{fold}" / "index"
            split = fold_split(sessions, folds, fold)
            if not (out / "index.meta.json").is_file():  # the meta file is written last
                write_fold_index(self.path, folds, fold, out)
            inputs.append(FoldInput(fold, out, split.as_dict()))
        return inputs


def open_source(data_config):
    return PickleSource(data_config.pickle) if data_config.pickle else IndexSource(data_config.index)
