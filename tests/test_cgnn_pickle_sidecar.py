"""A conversation pickle and its `<file>.config.json` stay a pair: a kill between the pickle's
rename and the sidecar's never leaves a sidecar describing the previous pickle."""

import json
import shutil

import pytest

from cgnn import conversation_pickle
from cgnn.conversation_pickle import config_path, sidecar_matches, write_conversations
from tests.cgnn_fixtures import LABELS, make_dialogues


def test_a_kill_before_the_sidecar_leaves_no_sidecar_of_the_old_pickle(tmp_path, monkeypatch):
    path = tmp_path / "f.pkl"
    write_conversations(path, make_dialogues(count=6, seed=1), LABELS, {"producer": "old"})
    assert sidecar_matches(path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies right after the pickle took its final name

    monkeypatch.setattr(conversation_pickle, "write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        write_conversations(path, make_dialogues(count=9, seed=2), LABELS, {"producer": "new"})
    assert conversation_pickle.read_conversations(path).config == {"producer": "new"}
    sidecar = config_path(path)
    assert not sidecar.exists() or json.loads(sidecar.read_text())["config"] == {"producer": "new"}
    assert not sidecar_matches(path)


def test_the_sidecar_names_its_pickle_by_content(tmp_path):
    first, second = tmp_path / "a.pkl", tmp_path / "b.pkl"
    write_conversations(first, make_dialogues(count=6, seed=1), LABELS, {})
    write_conversations(second, make_dialogues(count=6, seed=2), LABELS, {})
    assert sidecar_matches(first) and sidecar_matches(second)
    shutil.copyfile(second, first)  # a pickle swapped under its sidecar
    assert not sidecar_matches(first)
