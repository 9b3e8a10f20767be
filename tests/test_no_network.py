"""The tiny pipeline (generate -> index -> tiny preset -> train with offline Comet -> extract) makes
no network attempt: every way out through `socket` is patched to record the attempt and fail."""

import socket

import pytest
import torch

from cgnn.conversation_pickle import read_conversations
from feature_extractor.corpus import build_index, write_index
from feature_extractor.extraction.extract import main as extract_main
from feature_extractor.synthetic.generator import generate_corpus
from feature_extractor.training.train import train_from_args
from tests.stage12_fixtures import repo_root, tiny_overrides


@pytest.fixture
def network_attempts(monkeypatch):
    attempts = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append((name, args[1:] if name.startswith("socket.") else args))
            raise OSError(f"network disabled in this test ({name})")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts


def test_the_guard_records_attempts(network_attempts):
    with pytest.raises(OSError):
        socket.create_connection(("huggingface.co", 443), timeout=1)
    assert network_attempts and network_attempts[0][0] == "create_connection"


def test_tiny_pipeline_makes_no_network_attempt(network_attempts, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.delenv("COMET_API_KEY", raising=False)
    generate_corpus(tmp_path / "corpus", preset="tiny", dataset="KEMDy19", seed=1)
    write_index(build_index(tmp_path / "corpus", dataset="KEMDy19"), tmp_path / "index")
    run_dir = tmp_path / "run"
    summary = train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"),
                          *tiny_overrides(run_dir, tmp_path / "index", "tracking.comet=true")])
    assert list((run_dir / "comet").glob("*.zip")), "the offline Comet archive was not written"
    extract_main(["--checkpoint", str(run_dir), "--index", str(tmp_path / "index"), "--out", str(tmp_path / "f.pkl"),
                  "--num-workers", "0", "--no-progress"])
    assert read_conversations(tmp_path / "f.pkl").dialogues
    assert summary["test"]["n"] > 0
    assert network_attempts == []
