"""Shared, built-once inputs for the stage-1 / stage-2 tests: the `tiny` synthetic KEMDy19 corpus,
its index, and one tiny-preset training run. Built lazily per pytest session (memoised here),
so each test module that needs them pays only once."""

import sys
from pathlib import Path

from feature_extractor.corpus import build_index, write_index
from feature_extractor.synthetic.generator import generate_corpus

_BUILT = {}


def tiny_corpus(tmp_path_factory) -> dict:
    """{'root': corpus folder, 'index': index folder}."""
    if "corpus" not in _BUILT:
        base = tmp_path_factory.mktemp("tiny_corpus")
        root = base / "corpus"
        generate_corpus(root, preset="tiny", dataset="KEMDy19", seed=0)
        index = base / "index"
        write_index(build_index(root, dataset="KEMDy19"), index)  # default split: dev 17-18, test 19-20
        _BUILT["corpus"] = {"root": root, "index": index}
    return _BUILT["corpus"]


def tiny_overrides(run_dir, index, *extra) -> list:
    """key=value overrides for a seconds-long CPU run on the tiny corpus."""
    return [
        f"run_dir={run_dir}",
        f"data.index={index}",
        "model.text.name=tiny",
        "model.audio.name=tiny",
        "tiny_preset.hidden=32",
        "tiny_preset.conv_dim=16",
        "model.audio.kind=hf",
        "data.max_audio_seconds=2.0",
        "data.batch_size=8",
        "data.eval_batch_size=16",
        "data.num_workers=0",
        "data.scan_workers=0",
        "optim.lr=1e-3",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
        "trainer.devices=1",
        "trainer.precision=32-true",
        "trainer.early_stopping_patience=0",
        "trainer.progress_bar=false",
        "trainer.log_every_n_steps=1",
        "trainer.cpu_threads=1",
        *extra,
    ]


def trained_tiny_run(tmp_path_factory) -> dict:
    """One finished 1-epoch training run: {'run_dir', 'summary', 'index', 'root'}."""
    if "run" not in _BUILT:
        from feature_extractor.training.train import train_from_args

        corpus = tiny_corpus(tmp_path_factory)
        run_dir = tmp_path_factory.mktemp("tiny_run") / "run"
        summary = train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"), *tiny_overrides(run_dir, corpus["index"])])
        _BUILT["run"] = {"run_dir": run_dir, "summary": summary, **corpus}
    return _BUILT["run"]


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def python() -> str:
    return sys.executable
