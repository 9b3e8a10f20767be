"""Multi-GPU stage 2: each rank's own GPU is the current CUDA device before any collective.

NCCL's `gather_object` puts its buffers on `torch.cuda.current_device()`; if a rank never called
`torch.cuda.set_device`, that is cuda:0 on every rank and the merge fails or hangs after all the
extraction work. A CPU machine cannot run NCCL, so the test fakes `torch.cuda` and
`torch.distributed` and records which CUDA device is current when each collective is called,
while `extract`'s real order of steps runs (the model work itself is stubbed out)."""

import types

import pytest
import torch
import torch.distributed as dist

from feature_extractor.extraction import extract as stage2


class FakeGPUs:
    """Two pretend GPUs: the current device starts at 0, as in a fresh CUDA process."""

    def __init__(self):
        self.current = 0
        self.events = []  # (what, current device when it happened, details)

    def set_device(self, device):
        self.current = torch.device(device).index if not isinstance(device, int) else device
        self.events.append(("set_device", self.current, None))

    def record(self, what, details=None):
        self.events.append((what, self.current, details))


@pytest.fixture
def two_rank_world(monkeypatch):
    """This process is rank 1 (LOCAL_RANK 1) of 2 under torchrun on a 2-GPU node."""
    gpus = FakeGPUs()
    state = {"initialized": False}
    for name, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", gpus.set_device)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: gpus.current)

    def init_process_group(*args, **kwargs):
        gpus.record("init_process_group", {"backend": kwargs.get("backend", args[0] if args else None),
                                           "device_id": kwargs.get("device_id")})
        state["initialized"] = True

    def gather_object(obj, object_gather_list=None, dst=0, **kwargs):
        gpus.record("gather_object", dst)

    monkeypatch.setattr(dist, "is_initialized", lambda: state["initialized"])
    monkeypatch.setattr(dist, "init_process_group", init_process_group)
    monkeypatch.setattr(dist, "get_rank", lambda *args, **kwargs: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda *args, **kwargs: 2)
    monkeypatch.setattr(dist, "gather_object", gather_object)
    monkeypatch.setattr(dist, "destroy_process_group", lambda *args, **kwargs: gpus.record("destroy_process_group"))
    return gpus


@pytest.fixture
def stubbed_model_work(monkeypatch):
    """No model is loaded or run: what stage 2 does between joining the group and merging."""
    model = types.SimpleNamespace(tokenizer=None)
    export = types.SimpleNamespace(inputs=types.SimpleNamespace(max_tokens=8), split_provenance=None, folder="export")
    monkeypatch.setattr(stage2, "load_export", lambda checkpoint, device=None: (model, export))
    monkeypatch.setattr(stage2, "check_expectations", lambda *args, **kwargs: None)
    monkeypatch.setattr(stage2, "prepare_utterances", lambda *args, **kwargs: (None, None, None, None))
    monkeypatch.setattr(stage2, "extract_features", lambda *args, **kwargs: {"seg-1": {"a": [0.0]}})


def run_stage2(tmp_path, device: str):
    return stage2.extract_from_args(["--checkpoint", str(tmp_path), "--index", str(tmp_path), "--out", str(tmp_path / "f.pkl"),
                        "--num-workers", "0", "--no-progress", "--device", device])


@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_gather_runs_on_the_local_rank_gpu(two_rank_world, stubbed_model_work, tmp_path, device):
    assert run_stage2(tmp_path, device) == {}  # rank 1 writes nothing
    gathers = [current for what, current, _ in two_rank_world.events if what == "gather_object"]
    assert gathers == [1], two_rank_world.events


def test_device_is_set_before_the_group_is_made_and_bound_to_it(two_rank_world, stubbed_model_work, tmp_path):
    run_stage2(tmp_path, "auto")
    what = [event[0] for event in two_rank_world.events]
    assert what.index("set_device") < what.index("init_process_group"), two_rank_world.events
    [(_, current, details)] = [event for event in two_rank_world.events if event[0] == "init_process_group"]
    assert current == 1 and details["backend"] == "nccl"
    assert torch.device(details["device_id"]) == torch.device("cuda", 1)


def test_cpu_request_under_torchrun_uses_gloo_and_touches_no_gpu(two_rank_world, stubbed_model_work, tmp_path):
    run_stage2(tmp_path, "cpu")
    [(_, _, details)] = [event for event in two_rank_world.events if event[0] == "init_process_group"]
    assert details == {"backend": "gloo", "device_id": None}
    assert "set_device" not in [event[0] for event in two_rank_world.events]
