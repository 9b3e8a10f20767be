import json
import os
import pickle

import numpy as np
import pytest
from cgnn_fixtures import LABELS, make_dialogues

from cgnn import conversation_pickle as cp
from cgnn.conversation_pickle import (
    ConversationFormatError,
    config_path,
    modality_matrix,
    read_conversations,
    write_conversations,
)
from cgnn.safe_unpickle import UnsafePickleError, safe_load, safe_loads


def two_dialogues():
    return [
        {"dialogue_id": "Sess01_script01", "split": "train",
         "segment_ids": ["Sess01_script01_F001", "Sess01_script01_M001", "Sess01_script01_F002"],
         "speakers": ["Sess01_F", "Sess01_M", "Sess01_F"], "labels": [0, 2, -1],
         "features": {"a": np.arange(6, dtype=np.float64).reshape(3, 2), "t": np.ones((3, 4))}},
        {"dialogue_id": "Sess02_impro01", "split": "test",
         "segment_ids": ["Sess02_impro01_M001", "Sess02_impro01_F001"],
         "speakers": ["Sess02_M", "Sess02_F"], "labels": np.array([1, 1]),
         "features": {"a": np.zeros((2, 2)), "t": np.full((2, 4), 0.5)},
         "valence": [3.0, np.nan], "arousal": [2.5, 4.0]},
    ]


def test_round_trip_and_sidecar(tmp_path):
    path = tmp_path / "conv.pkl"
    write_conversations(path, two_dialogues(), LABELS, {"stage": 2, "where": tmp_path})
    data = read_conversations(path)
    assert data.label_names == LABELS
    assert data.feature_dims == {"a": 2, "t": 4}
    first = data.dialogues[0]
    assert first["labels"].dtype == np.int64 and first["labels"].tolist() == [0, 2, -1]
    assert first["features"]["a"].dtype == np.float32
    np.testing.assert_array_equal(first["features"]["a"], np.arange(6).reshape(3, 2))
    assert np.isnan(data.dialogues[1]["valence"][1])
    assert data.config == {"stage": 2, "where": str(tmp_path)}  # made JSON-plain
    sidecar = json.loads(config_path(path).read_text())
    assert sidecar["format"] == "kemdy-erc-conversations" and sidecar["version"] == 1
    # by hand: train 1 dialogue, 3 utterances, 2 labelled; test 1 dialogue, 2 utterances, 2 labelled
    assert sidecar["counts"] == {"train": {"dialogues": 1, "utterances": 3, "labelled": 2},
                                 "test": {"dialogues": 1, "utterances": 2, "labelled": 2}}


def _broken(change):
    dialogues = two_dialogues()
    change(dialogues)
    return dialogues


@pytest.mark.parametrize("change, expected", [
    (lambda d: d[0].pop("speakers"), r"'Sess01_script01'.*missing key\(s\) speakers"),
    (lambda d: d[0]["speakers"].pop(), r"'Sess01_script01'.*segment_ids has 3 entries but speakers has 2"),
    (lambda d: d[1]["features"].update(t=np.ones((3, 4))), r"'Sess02_impro01'.*features\['t'\] rows has 3"),
    (lambda d: d[1]["features"].update(t=np.ones((2, 5))), r"'Sess02_impro01'.*feature dims .*'t': 5.*differ"),
    (lambda d: d[1]["features"].pop("t"), r"'Sess02_impro01'.*feature dims"),
    (lambda d: d[0].update(labels=[0, 3, -1]), r"'Sess01_script01'.*label 3 of segment 'Sess01_script01_M001'"),
    (lambda d: d[0].update(labels=[0, -2, -1]), r"label -2 .*out of range"),
    (lambda d: d[0].update(labels=[0.0, 1.0, 2.0]), r"labels must be integers"),
    (lambda d: d[0].update(split="validation"), r"'Sess01_script01'.*unknown split 'validation'"),
    (lambda d: d[0]["features"]["a"].__setitem__((1, 0), np.nan),
     r"'Sess01_script01'.*features\['a'\] row 1 \(segment 'Sess01_script01_M001'\) has NaN"),
    (lambda d: d[1]["segment_ids"].__setitem__(1, "Sess01_script01_F002"),
     r"'Sess02_impro01'.*duplicate segment id 'Sess01_script01_F002'.*'Sess01_script01'"),
    (lambda d: d[1].update(dialogue_id="Sess01_script01"), r"dialogue_id repeats dialogue #0"),
    (lambda d: d[0].update(emotion=["x"] * 3), r"unknown key\(s\) emotion"),
    (lambda d: d[0].update(speakers=["F", 2, "F"]), r"speakers\[1\] is 2; expected a non-empty string"),
    (lambda d: d[1].update(soft_labels=np.ones((2, 2))), r"soft_labels has shape \(2, 2\), expected \(2, 3\)"),
    (lambda d: d[0].update(segment_ids=[], speakers=[], labels=[], features={"a": np.zeros((0, 2)),
                                                                            "t": np.zeros((0, 4))}),
     r"has no utterances"),
])
def test_validation_errors_name_dialogue_and_problem(tmp_path, change, expected):
    path = tmp_path / "bad.pkl"
    with pytest.raises(ConversationFormatError, match=expected):
        write_conversations(path, _broken(change), LABELS, {})
    assert not path.exists()


def test_minus_one_and_predict_split_are_allowed(tmp_path):
    dialogues = two_dialogues()
    dialogues[1].update(split="predict", labels=[-1, -1])
    data = write_conversations(tmp_path / "p.pkl", dialogues, LABELS, {})
    assert data.in_split("predict")[0]["labels"].tolist() == [-1, -1]


def test_read_rejects_foreign_or_newer_payloads(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps(({}, {}, {}, {}, {}, {}, {}, [], [])))
    with pytest.raises(ConversationFormatError, match="COGMEN tuple.*kemdy-import"):
        read_conversations(path)
    write_conversations(path, two_dialogues(), LABELS, {})
    payload = safe_load(path)
    payload["version"] = 2
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(ConversationFormatError, match="version 2 is newer"):
        read_conversations(path)
    payload.update(version=1, format="something-else")
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(ConversationFormatError, match="format is 'something-else'"):
        read_conversations(path)


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "conv.pkl"
    write_conversations(path, two_dialogues(), LABELS, {"run": 1})
    before = path.read_bytes()

    def crash(obj, handle, protocol=None):
        handle.write(b"half a pickle")
        raise OSError("disk full")

    monkeypatch.setattr(cp.pickle, "dump", crash)
    with pytest.raises(OSError, match="disk full"):
        write_conversations(path, make_dialogues(count=3), LABELS, {"run": 2})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["conv.pkl", "conv.pkl.config.json"]  # no temp left


# ---------------------------------------------------------------- restricted unpickling


class _CreatesFile:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


class _RunsShell:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


@pytest.mark.parametrize("payload_class", [_CreatesFile, _RunsShell])
def test_malicious_pickle_is_rejected_without_running(tmp_path, payload_class):
    proof = tmp_path / "proof_the_payload_works"
    pickle.loads(pickle.dumps(payload_class(proof)))
    assert proof.exists()  # the payload really creates the file when unpickled normally

    target = tmp_path / "must_not_exist"
    conversation = {"format": "kemdy-erc-conversations", "version": 1, "label_names": LABELS,
                    "feature_dims": {}, "config": {"evil": payload_class(target)}, "dialogues": []}
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(conversation))
    with pytest.raises(UnsafePickleError, match=r"evil\.pkl: refusing to load global"):
        read_conversations(path)
    assert not target.exists()


@pytest.mark.parametrize("protocol", range(6))
def test_numpy_and_containers_load_with_every_protocol(protocol):
    value = {"f": np.arange(6, dtype=np.float32).reshape(2, 3), "i": np.array([-1, 4]),
             "u": np.array(["가", "bc"]), "fortran": np.asfortranarray(np.eye(3)), "scalar": np.float64(2.5),
             "set": {1, 2}, "frozen": frozenset("ab"), "bytes": b"\x00\xff", "complex": 1 + 2j, "t": (1, None)}
    loaded = safe_loads(pickle.dumps(value, protocol=protocol))
    for key in ("f", "i", "u", "fortran"):
        np.testing.assert_array_equal(loaded[key], value[key])
        assert loaded[key].dtype == value[key].dtype
    assert loaded["scalar"] == 2.5 and loaded["set"] == {1, 2} and loaded["bytes"] == b"\x00\xff"
    assert loaded["complex"] == 1 + 2j and loaded["t"] == (1, None) and loaded["frozen"] == frozenset("ab")


def test_numpy1_module_names_are_accepted():
    data = pickle.dumps(np.arange(3, dtype=np.float32), protocol=2)
    assert b"numpy._core.multiarray" in data
    old = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")  # as numpy 1.x wrote it
    np.testing.assert_array_equal(safe_loads(old), np.arange(3, dtype=np.float32))


def test_codecs_encode_only_for_latin1():
    import codecs

    class _Rot13:
        def __reduce__(self):
            return (codecs.encode, ("abc", "rot13"))

    with pytest.raises(UnsafePickleError, match="only for latin1"):
        safe_loads(pickle.dumps(_Rot13(), protocol=2))


# ---------------------------------------------------------------- modalities


def test_modality_matrix_concatenates_in_written_order():
    dialogue = {"features": {"a": np.array([[1.0, 2.0]]), "t": np.array([[3.0]]), "fused": np.array([[9.0]])}}
    assert modality_matrix(dialogue, "at").tolist() == [[1.0, 2.0, 3.0]]
    assert modality_matrix(dialogue, "ta").tolist() == [[3.0, 1.0, 2.0]]
    assert modality_matrix(dialogue, "fused").tolist() == [[9.0]]
    with pytest.raises(ValueError, match=r"'av' is not available; features present: a, t, fused"):
        modality_matrix(dialogue, "av")
    with pytest.raises(ValueError, match="not available"):
        modality_matrix(dialogue, "aa")
