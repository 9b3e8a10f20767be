"""Session splits and k-fold by contiguous session blocks."""

import pytest

from feature_extractor.corpus import CorpusError, SplitConfig
from feature_extractor.corpus.splits import resolve_split

KEMDY19 = range(1, 21)
KEMDY20 = range(1, 41)


def test_dataset_defaults():
    k19 = resolve_split(None, "KEMDy19", KEMDY19)
    assert (k19.test, k19.dev, k19.train) == ((19, 20), (17, 18), tuple(range(1, 17)))
    k20 = resolve_split(SplitConfig(), "KEMDy20", KEMDY20)
    assert (k20.test, k20.dev, k20.train) == ((37, 38, 39, 40), (33, 34, 35, 36), tuple(range(1, 33)))


def test_explicit_sessions_and_empty_dev():
    split = resolve_split(SplitConfig(test_sessions=[3, 1], dev_sessions=[]), "KEMDy19", [1, 2, 3, 4])
    assert (split.test, split.dev, split.train) == ((1, 3), (), (2, 4))


def test_k_fold_contiguous_blocks_with_dev_as_next_block():
    split = resolve_split(SplitConfig(folds=5, fold=4), "KEMDy19", KEMDY19)
    assert (split.test, split.dev) == ((17, 18, 19, 20), (1, 2, 3, 4))  # dev wraps around
    assert split.train == tuple(range(5, 17))
    uneven = resolve_split(SplitConfig(folds=3, fold=0), "KEMDy19", range(1, 11))
    assert (uneven.test, uneven.dev, uneven.train) == ((1, 2, 3, 4), (5, 6, 7), (8, 9, 10))
    every_session_tested_once = sorted(
        s for fold in range(5) for s in resolve_split(SplitConfig(folds=5, fold=fold), "KEMDy20", KEMDY20).test
    )
    assert every_session_tested_once == list(KEMDY20)


def test_split_of_sessions():
    import pandas as pd

    split = resolve_split(SplitConfig(test_sessions=[2], dev_sessions=[3]), "KEMDy19", [1, 2, 3])
    assert split.split_of(pd.Series([1, 2, 3, 2])).tolist() == ["train", "test", "dev", "test"]


@pytest.mark.parametrize(
    "config, sessions, message",
    [
        (SplitConfig(test_sessions=[21]), KEMDY19, r"test sessions \[21\] are not in the corpus"),
        (SplitConfig(), range(1, 5), r"dataset default"),  # defaults need sessions 17-20
        (SplitConfig(test_sessions=[1, 2], dev_sessions=[2, 3]), KEMDY19, r"\[2\] are in both test and dev"),
        (SplitConfig(test_sessions=[1], dev_sessions=[2]), [1, 2], "no session left for training"),
        (SplitConfig(folds=2), KEMDY19, "3 <= folds <= 20"),
        (SplitConfig(folds=21), KEMDY19, "3 <= folds <= 20"),
        (SplitConfig(folds=5, fold=5), KEMDY19, "0 <= fold < 5"),
        (SplitConfig(folds=5, test_sessions=[1]), KEMDY19, "k-fold and explicit"),
    ],
)
def test_bad_split_configs(config, sessions, message):
    with pytest.raises(CorpusError, match=message):
        resolve_split(config, "KEMDy19", sessions)
