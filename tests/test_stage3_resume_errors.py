"""Resuming a stage-3 run from a state it cannot continue is one `error:` line naming the state
file and what differs, exit code 2, and nothing is trained: a cut-off or crafted file, a file of
another shape, another model, other features, or other data than the run was started with."""

import json
import os
import shutil

import pytest
import torch

from cgnn import train as stage3_train
from tests.cgnn_fixtures import SMALL_RUN, write_pickle

torch.set_num_threads(1)


class Payload:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """A one-epoch run to resume: (its pickle, its folder)."""
    root = tmp_path_factory.mktemp("resume")
    data = root / "conv.pkl"
    write_pickle(data, count=8, seed=1)
    assert stage3_train.main([*SMALL_RUN, f"data.path={data}", f"run_dir={root / 'run'}", "trainer.max_epochs=1"]) == 0
    return data, root / "run"


@pytest.fixture
def run_copy(started, tmp_path):
    data, run = started
    shutil.copytree(run, tmp_path / "run")
    return data, tmp_path / "run"


def resume(run, data, *overrides) -> int:
    return stage3_train.main([*SMALL_RUN, f"data.path={data}", f"run_dir={run}", "trainer.max_epochs=2",
                              "resume=true", *overrides])


def refused(capsys, run, *fragments) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert str(run / "train_state.pt") in err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    history = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["history"]
    assert len(history) == 1  # nothing trained
    return err[0]


def test_a_cut_off_state_file(run_copy, capsys):
    data, run = run_copy
    state = run / "train_state.pt"
    state.write_bytes(state.read_bytes()[:200])
    assert resume(run, data) == 2
    refused(capsys, run, "not a readable stage-3 training state")


def test_a_state_file_of_another_shape(run_copy, capsys):
    data, run = run_copy
    torch.save({"weights": torch.zeros(2)}, run / "train_state.pt")
    assert resume(run, data) == 2
    refused(capsys, run, "not a stage-3 training state", "model")


def test_a_crafted_state_file_is_one_line_without_advice_to_load_it_unsafely(run_copy, capsys):
    data, run = run_copy
    torch.save({"model": Payload()}, run / "train_state.pt")
    assert resume(run, data) == 2
    line = refused(capsys, run, "not a readable stage-3 training state", "system")
    assert "weights_only" not in line


@pytest.mark.parametrize("override, fragment", [
    ("model.hidden=24", "model.hidden=24, but the run was started with model.hidden=16"),
    ("data.modality=a", "data.modality='a', but the run was started with data.modality='at'"),
])
def test_another_model_or_features(run_copy, capsys, override, fragment):
    data, run = run_copy
    assert resume(run, data, override) == 2
    refused(capsys, run, fragment)


def test_other_data_than_the_run_was_started_with(run_copy, tmp_path, capsys):
    data, run = run_copy
    other = write_pickle(tmp_path / "other.pkl", count=8, seed=2).source  # same shapes, other dialogues
    assert resume(run, other) == 2
    refused(capsys, run, f"data.path={other}", f"started on {data}")


def test_a_state_without_its_identity_still_names_a_model_that_does_not_fit(run_copy, capsys):
    data, run = run_copy
    state = torch.load(run / "train_state.pt", weights_only=True)
    state.pop("run")  # as written before the identity was recorded
    torch.save(state, run / "train_state.pt")
    assert resume(run, data, "model.hidden=24") == 2
    refused(capsys, run, "weights do not fit the model")
