"""Session folds of the runner against a slow reference written from the documented rule:
the sessions present, in order, cut into K contiguous blocks whose sizes differ by at most one
(earlier blocks the larger); test = block I, dev = block I+1 mod K, train = the rest."""

import numpy as np
import pandas as pd
import pytest

from erc_core.errors import UserError
from erc_experiments.folds import (
    dialogue_session,
    fold_dialogues,
    fold_split,
    write_fold_index,
)
from tests.cgnn_fixtures import make_dialogues


def reference_blocks(sessions, folds):
    ordered = sorted(set(sessions))
    size, extra = divmod(len(ordered), folds)
    blocks, start = [], 0
    for block in range(folds):
        length = size + (1 if block < extra else 0)
        blocks.append(ordered[start:start + length])
        start += length
    return blocks


def reference_fold(sessions, folds, fold):
    blocks = reference_blocks(sessions, folds)
    test, dev = blocks[fold], blocks[(fold + 1) % folds]
    train = [s for s in sorted(set(sessions)) if s not in test and s not in dev]
    return {"train": train, "dev": dev, "test": test}


CASES = [(list(range(1, 21)), 5), (list(range(1, 41)), 5), (list(range(1, 21)), 3), (list(range(1, 6)), 5),
         ([1, 2, 17, 18, 19, 20], 3), (list(range(1, 12)), 4)]


@pytest.mark.parametrize("sessions, folds", CASES)
def test_folds_follow_the_documented_rule(sessions, folds):
    for fold in range(folds):
        assert fold_split(sessions, folds, fold).as_dict() == reference_fold(sessions, folds, fold)


def test_random_session_sets_partition_the_sessions():
    rng = np.random.default_rng(0)
    for _ in range(200):
        sessions = sorted(rng.choice(np.arange(1, 60), size=int(rng.integers(3, 30)), replace=False).tolist())
        folds = int(rng.integers(3, len(sessions) + 1))
        tested = []
        for fold in range(folds):
            split = fold_split(pd.Series(sessions * 2), folds, fold)  # repeats: one row per utterance
            assert split.as_dict() == reference_fold(sessions, folds, fold)
            assert not set(split.dev) & set(split.test)
            assert not set(split.train) & set(split.test)
            assert not set(split.train) & set(split.dev)
            assert sorted(split.train + split.dev + split.test) == sessions
            tested += list(split.test)
        assert sorted(tested) == sessions  # every session is test in exactly one fold


def test_kemdy19_five_folds_are_blocks_of_four_sessions():
    split = fold_split(range(1, 21), 5, 4)
    assert split.test == (17, 18, 19, 20) and split.dev == (1, 2, 3, 4)


def test_too_few_or_too_many_folds_are_refused():
    with pytest.raises(ValueError, match="folds=2"):
        fold_split(range(1, 21), 2, 0)
    with pytest.raises(ValueError, match="folds=7"):
        fold_split(range(1, 7), 7, 0)


def test_pickle_dialogues_are_resplit_by_their_session():
    dialogues = make_dialogues(count=12)  # Sess00 .. Sess11, one dialogue each
    dialogues[0]["split"] = "predict"
    for fold in range(3):
        chosen, split = fold_dialogues(dialogues, 3, fold, "test.pkl")
        assert [d["dialogue_id"] for d in chosen] == [d["dialogue_id"] for d in dialogues[1:]]
        expected = reference_fold(range(1, 12), 3, fold)
        for dialogue in chosen:
            session = int(dialogue["dialogue_id"][4:6])
            assert session in expected[dialogue["split"]]
        assert split.as_dict() == expected


@pytest.mark.parametrize("dialogue_id, session", [("Sess03_script01", 3), ("Ses05F_impro01", 5),
                                                   ("sess12_x", 12)])
def test_session_numbers_come_from_the_dialogue_id(dialogue_id, session):
    assert dialogue_session(dialogue_id, "x.pkl") == session


def test_an_id_without_a_session_is_refused_naming_it():
    dialogues = make_dialogues(count=6)
    dialogues[2]["dialogue_id"] = "dia_17"
    with pytest.raises(UserError, match="x.pkl: dialogue 'dia_17' carries no session"):
        fold_dialogues(dialogues, 3, 0, "x.pkl")


def test_fold_index_rewrites_only_the_split_column(tmp_path, tmp_path_factory):
    from feature_extractor.corpus import read_index, read_index_meta
    from feature_extractor.corpus.index_io import INDEX_FILE
    from tests.stage12_fixtures import tiny_corpus

    index = tiny_corpus(tmp_path_factory)["index"]
    original = pd.read_csv(index / INDEX_FILE, dtype=str, keep_default_na=False)
    write_fold_index(index, 3, 1, tmp_path / "fold1")
    refolded = pd.read_csv(tmp_path / "fold1" / INDEX_FILE, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(refolded.drop(columns="split"), original.drop(columns="split"))
    expected = reference_fold(original["session"].astype(int), 3, 1)
    names = {s: name for name, sessions in expected.items() for s in sessions}
    assert refolded["split"].tolist() == [names[int(s)] for s in refolded["session"]]
    meta = read_index_meta(tmp_path / "fold1")
    assert meta["resolved"]["split"] == expected and meta["options"]["fold"] == 1
    assert read_index(tmp_path / "fold1")["wav_file"].tolist() == read_index(index)["wav_file"].tolist()



def table_index(tmp_path, dialogue_ids, session_column=False):
    """An index read from a table, two utterances per dialogue (the table's file order reversed)."""
    from feature_extractor.corpus import write_index
    from feature_extractor.corpus.utterance_table import TableSpec, read_utterance_table

    rows = [[d, str(t), "A", f"text {d} {t}", "joy", str(n + 1)] for n, d in enumerate(dialogue_ids) for t in (0, 1)]
    table = tmp_path / "talk.csv"
    pd.DataFrame(rows[::-1], columns=["conv", "t", "who", "utt", "emo", "sess"]).to_csv(table, index=False)
    spec = TableSpec(dialogue="conv", order="t", speaker="who", text="utt", label="emo",
                     session="sess" if session_column else None)
    write_index(read_utterance_table(table, spec), tmp_path / "index")
    return tmp_path / "index"


def test_a_table_index_without_sessions_folds_by_the_session_in_the_dialogue_id(tmp_path):
    from feature_extractor.corpus import read_index
    from feature_extractor.corpus.index_io import INDEX_FILE

    ids = ["Ses01F_a", "Ses01M_b", "Ses02F_a", "Ses03F_a", "Ses03M_b", "Ses04F_a", "Ses05M_a"]
    index = table_index(tmp_path, ids)
    assert read_index(index)["session"].unique().tolist() == [0]
    write_fold_index(index, 5, 2, tmp_path / "fold2")
    refolded = pd.read_csv(tmp_path / "fold2" / INDEX_FILE, dtype=str, keep_default_na=False)
    expected = reference_fold([1, 2, 3, 4, 5], 5, 2)  # test session 3, dev session 4
    names = {s: name for name, sessions in expected.items() for s in sessions}
    assert refolded["split"].tolist() == [names[int(d[3:5])] for d in refolded["dialogue_id"]]
    # the same dialogues as a pickle get the same folds
    dialogues = [{"dialogue_id": d, "split": "train"} for d in ids]
    resplit, _ = fold_dialogues(dialogues, 5, 2, "x.pkl")
    by_dialogue = dict(zip(refolded["dialogue_id"], refolded["split"]))
    assert {d["dialogue_id"]: d["split"] for d in resplit} == by_dialogue


def test_a_table_session_column_decides_over_the_dialogue_id(tmp_path):
    from feature_extractor.corpus.index_io import INDEX_FILE

    index = table_index(tmp_path, ["Ses05F_a", "Ses05F_b", "Ses05F_c"], session_column=True)  # sessions 1, 2, 3
    write_fold_index(index, 3, 0, tmp_path / "fold0")
    refolded = pd.read_csv(tmp_path / "fold0" / INDEX_FILE, dtype=str, keep_default_na=False)
    assert dict(zip(refolded["dialogue_id"], refolded["split"])) == {"Ses05F_a": "test", "Ses05F_b": "dev",
                                                                     "Ses05F_c": "train"}


def test_a_table_index_without_sessions_anywhere_is_refused_naming_the_fix(tmp_path):
    index = table_index(tmp_path, ["dia_1", "dia_2", "dia_3"])
    with pytest.raises(UserError, match=r"index: dialogue 'dia_1' carries no session number .*"
                                        r"name the table's session column \(session=COLUMN\)"):
        write_fold_index(index, 3, 0, tmp_path / "fold0")
