"""Train / dev / test by session, so no speaker is in two splits.

Default (held-out sessions as in the published results):
  KEMDy19: test 19-20, dev 17-18;  KEMDy20: test 37-40, dev 33-36;  train = every other session.
K-fold (`folds=K`, `fold=I`): the sessions present in the corpus, in order, are cut into K
contiguous blocks (sizes differ by at most one, earlier blocks the larger); test = block I,
dev = block (I + 1) mod K, train = the rest. K must be at least 3 so train is never empty.
A listed session that the corpus lacks, a session in both test and dev, or an empty train split
is an error."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feature_extractor.corpus.errors import CorpusError

DEFAULT_SESSIONS = {
    "KEMDy19": {"test": (19, 20), "dev": (17, 18)},
    "KEMDy20": {"test": (37, 38, 39, 40), "dev": (33, 34, 35, 36)},
}
SPLIT_NAMES = ("train", "dev", "test")


@dataclass
class SplitConfig:
    test_sessions: list[int] | None = None  # None: the dataset's default
    dev_sessions: list[int] | None = None  # None: the dataset's default
    folds: int = 0  # 0: no k-fold; else k-fold by contiguous session blocks
    fold: int = 0  # which block is the test block under k-fold


@dataclass(frozen=True)
class ResolvedSplit:
    train: tuple[int, ...]
    dev: tuple[int, ...]
    test: tuple[int, ...]

    def split_of(self, sessions: pd.Series) -> pd.Series:
        names = {s: "train" for s in self.train} | {s: "dev" for s in self.dev} | {s: "test" for s in self.test}
        return sessions.map(names).astype(str)

    def as_dict(self) -> dict:
        return {"train": list(self.train), "dev": list(self.dev), "test": list(self.test)}


def resolve_split(config: SplitConfig | None, dataset: str, sessions) -> ResolvedSplit:
    """Session lists for each split, checked against the sessions present in the corpus."""
    config = config or SplitConfig()
    present = sorted({int(s) for s in sessions})
    if config.folds:
        if config.test_sessions is not None or config.dev_sessions is not None:
            raise CorpusError("k-fold and explicit test/dev sessions were both given", expected="one of the two")
        test, dev = _fold_blocks(present, config.folds, config.fold)
    else:
        defaults = DEFAULT_SESSIONS[dataset]
        test = _sessions(config.test_sessions, defaults["test"])
        dev = _sessions(config.dev_sessions, defaults["dev"])
        _require_present(test, "test", present, explicit=config.test_sessions is not None)
        _require_present(dev, "dev", present, explicit=config.dev_sessions is not None)
    overlap = sorted(set(test) & set(dev))
    if overlap:
        raise CorpusError(f"sessions {overlap} are in both test and dev", expected="disjoint test and dev sessions")
    train = tuple(s for s in present if s not in test and s not in dev)
    if not train:
        raise CorpusError("no session left for training", expected="test and dev to leave some sessions")
    return ResolvedSplit(train=train, dev=tuple(dev), test=tuple(test))


def _sessions(given, default) -> tuple[int, ...]:
    chosen = default if given is None else given
    return tuple(sorted({int(s) for s in chosen}))


def _require_present(chosen, split: str, present: list[int], explicit: bool) -> None:
    missing = sorted(set(chosen) - set(present))
    if missing:
        hint = "" if explicit else " (dataset default; pass test/dev sessions or folds for a partial corpus)"
        raise CorpusError(
            f"{split} sessions {missing} are not in the corpus{hint}",
            expected=f"sessions among {_listed(present)}",
        )


def _fold_blocks(present: list[int], folds: int, fold: int):
    if not 3 <= folds <= len(present):
        raise CorpusError(
            f"folds={folds} with {len(present)} sessions", expected=f"3 <= folds <= {len(present)}"
        )
    if not 0 <= fold < folds:
        raise CorpusError(f"fold={fold}", expected=f"0 <= fold < {folds}")
    blocks = np.array_split(np.asarray(present), folds)
    test = tuple(int(s) for s in blocks[fold])
    dev = tuple(int(s) for s in blocks[(fold + 1) % folds])
    return test, dev


def _listed(sessions: list[int]) -> str:
    return ", ".join(str(s) for s in sessions) if sessions else "(none)"
