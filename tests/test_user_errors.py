"""Every mistake a user can make with a file or an option ends as one `error:` line naming the file
and what was expected, exit code 2, no traceback; outputs keep the umask's mode; nothing is
overwritten silently."""

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

import pytest
import torch

from cgnn import eval as stage3_eval
from cgnn import train as stage3_train
from erc_core import files
from erc_core.files import atomic_open, atomic_path, staging_folder
from feature_extractor.extraction import extract as stage2
from feature_extractor.training import train as stage1
from tests.cgnn_fixtures import SMALL_RUN, write_pickle
from tests.stage12_fixtures import repo_root, tiny_corpus, tiny_overrides, trained_tiny_run


def one_error_line(capsys, *fragments) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in "\n".join(err)
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def stage3_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors_stage3")
    data = root / "conv.pkl"
    write_pickle(data, count=8, seed=1)
    run = root / "run"
    assert stage3_train.main([*SMALL_RUN, f"data.path={data}", f"run_dir={run}", "trainer.max_epochs=1"]) == 0
    return data, run


def train_stage3(*overrides) -> int:
    return stage3_train.main([*SMALL_RUN, "trainer.max_epochs=1", *overrides])


def test_a_truncated_pickle_is_named(stage3_run, tmp_path, capsys):
    data, _ = stage3_run
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    assert train_stage3(f"data.path={cut}", f"run_dir={tmp_path / 'run'}") == 2
    one_error_line(capsys, str(cut), "not a readable pickle", "cut off")


def test_a_config_json_cut_off_mid_file_is_named(stage3_run, tmp_path, capsys):
    data, run = stage3_run
    damaged = tmp_path / "checkpoint"
    shutil.copytree(run, damaged)
    text = (damaged / "config.json").read_text()
    (damaged / "config.json").write_text(text[: len(text) // 2])
    assert stage3_eval.main(["--checkpoint", str(damaged), "--data", str(data)]) == 2
    one_error_line(capsys, str(damaged / "config.json"), "not valid JSON")


def test_a_checkpoint_config_with_other_layer_sizes_names_the_tensor(stage3_run, tmp_path, capsys):
    data, run = stage3_run
    edited = tmp_path / "checkpoint"
    shutil.copytree(run, edited)
    info = json.loads((edited / "config.json").read_text())
    info["model"]["hidden"] = 24
    (edited / "config.json").write_text(json.dumps(info))
    assert stage3_eval.main(["--checkpoint", str(edited), "--data", str(data)]) == 2
    line = one_error_line(capsys, str(edited / "model.safetensors"), "weights do not fit the model", "shape mismatch")
    assert "size mismatch" not in line


def test_a_stage3_run_folder_is_not_overwritten_unless_asked(stage3_run, capsys):
    data, run = stage3_run
    before = (run / "model.safetensors").read_bytes()
    assert train_stage3(f"data.path={data}", f"run_dir={run}") == 2
    one_error_line(capsys, str(run), "holds a previous run", "overwrite=true")
    assert (run / "model.safetensors").read_bytes() == before
    keep = run / "notes.txt"
    keep.write_text("mine")
    assert train_stage3(f"data.path={data}", f"run_dir={run}", "overwrite=true", "seed=5") == 0
    assert keep.read_text() == "mine"  # only the run's own files were replaced


def test_the_missing_tokenizer_of_an_export_is_named(tmp_path_factory, tmp_path, capsys):
    run = trained_tiny_run(tmp_path_factory)
    export = tmp_path / "export"
    shutil.copytree(run["run_dir"] / "export", export)
    (export / "text_encoder" / "tokenizer.json").unlink()
    code = stage2.main(["--checkpoint", str(export), "--index", str(run["index"]), "--out", str(tmp_path / "f.pkl"),
                        "--num-workers", "0", "--no-progress"])
    assert code == 2
    line = one_error_line(capsys, str(export / "text_encoder"), "no tokenizer files")
    assert "install sentencepiece" not in line.lower()  # the misleading message of the old code


def test_a_checkpoint_path_that_is_no_export_is_named_as_given(tmp_path_factory, tmp_path, capsys):
    run = trained_tiny_run(tmp_path_factory)
    empty = tmp_path / "export"
    empty.mkdir()
    assert stage2.main(["--checkpoint", str(empty), "--index", str(run["index"]), "--out", str(tmp_path / "f.pkl")]) == 2
    line = one_error_line(capsys, f"error: {empty}: not a stage-1 run or export folder")
    assert "export/export" not in line


def test_a_full_disk_in_stage1_is_one_error_line(tmp_path_factory, tmp_path, capsys, monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("this machine has no /dev/full to simulate a full disk with")
    real_mkstemp = tempfile.mkstemp

    def full_disk_for_checkpoints(prefix="", suffix="", dir=None):
        fd, path = real_mkstemp(prefix=prefix, suffix=suffix, dir=dir)
        if ".ckpt" in prefix:  # the Lightning checkpoint: every write to it fails with ENOSPC
            os.close(fd)
            os.unlink(path)
            os.symlink("/dev/full", path)
            fd = os.open(path, os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(files.tempfile, "mkstemp", full_disk_for_checkpoints)
    corpus = tiny_corpus(tmp_path_factory)
    run_dir = tmp_path / "run"
    code = stage1.main(["--config", str(repo_root() / "configs/stage1/demo.yaml"),
                        *tiny_overrides(run_dir, corpus["index"], "tracking.comet=false")])
    assert code == 2
    one_error_line(capsys, str(run_dir / "checkpoints" / "last.ckpt"), "no space left on device")
    assert not (run_dir / "checkpoints" / "last.ckpt").exists()


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_outputs_get_the_mode_the_umask_gives(umask_022, tmp_path, stage3_run):
    with atomic_open(tmp_path / "out.json", "w") as handle:
        handle.write("{}")
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o644
    assert stat.S_IMODE(staging_folder(tmp_path / "folder").stat().st_mode) == 0o755
    _, run = stage3_run
    for name in ("model.safetensors", "config.json", "metrics.json"):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o644, name


def test_a_real_encoder_folder_is_never_replaced_by_the_tiny_preset(tmp_path_factory, tmp_path):
    """Only encoders named `tiny` are built from the corpus; a folder given by the user is used as is."""
    run = trained_tiny_run(tmp_path_factory)
    text_folder = run["run_dir"] / "tiny_models" / "text"  # a complete HF folder (weights + tokenizer)
    summary = stage1.train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"),
                                      *tiny_overrides(tmp_path / "run", run["index"], f"model.text.name={text_folder}")])
    assert summary["test"]["n"] > 0
    exported = json.loads((tmp_path / "run" / "export" / "model_config.json").read_text())
    assert exported["stage1_config"]["model"]["text"]["name"] == str(text_folder)
    assert exported["stage1_config"]["model"]["audio"]["name"] == str(tmp_path / "run" / "tiny_models" / "audio")
    torch.set_num_threads(1)


def test_an_encoder_folder_that_cannot_be_loaded_is_named(tmp_path_factory, tmp_path, capsys):
    run = trained_tiny_run(tmp_path_factory)
    no_weights = run["run_dir"] / "export" / "text_encoder"  # config and tokenizer, no weights
    code = stage1.main(["--config", str(repo_root() / "configs/stage1/demo.yaml"),
                        *tiny_overrides(tmp_path / "run", run["index"], f"model.text.name={no_weights}")])
    assert code == 2
    one_error_line(capsys, f"model.text.name={no_weights}: cannot load it")


def test_max_tokens_above_the_position_limit_is_refused(tmp_path_factory, tmp_path, capsys):
    run = trained_tiny_run(tmp_path_factory)
    code = stage1.main(["--config", str(repo_root() / "configs/stage1/demo.yaml"),
                        *tiny_overrides(tmp_path / "run", run["index"], "model.text.max_tokens=100000")])
    assert code == 2
    one_error_line(capsys, "model.text.max_tokens=100000", "token positions")


def test_a_stage12_command_without_its_packages_says_what_to_install(monkeypatch, capsys):
    """`pip install kemdy-erc` without the stages12 extra: the stage-1 command says what is missing."""
    from erc_core import commands

    def missing(module):
        raise ModuleNotFoundError("No module named 'lightning'", name="lightning")

    monkeypatch.setattr(commands.importlib, "import_module", missing)
    assert commands.stage1_train([]) == 2
    one_error_line(capsys, "lightning, which is not installed", "kemdy-erc[stages12]")


# -- output folders that cannot be written --------------------------------------------------------------


def read_only_file_system(monkeypatch):
    """Every temp file or folder creation fails as on a read-only mount (the error names the temp file)."""
    def refuse(prefix="", suffix="", dir=None):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(dir, f"{prefix}abc{suffix}"))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(files.tempfile, "mkdtemp", refuse)


def test_a_read_only_output_folder_is_named_not_its_temp_file(stage3_run, tmp_path, capsys, monkeypatch):
    data, _ = stage3_run
    read_only_file_system(monkeypatch)
    run = tmp_path / "run"
    assert train_stage3(f"data.path={data}", f"run_dir={run}", "tracking.comet=false") == 2
    line = one_error_line(capsys, "read-only file system")
    assert line.startswith(f"error: {run}/") and ".tmp" not in line


def test_an_output_path_that_is_a_folder_is_named(tmp_path, capsys):
    from erc_core.cli import run_command

    def write_into_a_folder(argv):
        with atomic_open(tmp_path, "w") as handle:
            handle.write("{}")

    assert run_command(write_into_a_folder, []) == 2
    line = one_error_line(capsys, f"error: {tmp_path}: is a folder; expected a file name")
    assert ".tmp" not in line


def test_a_short_write_is_a_full_disk_naming_the_target(tmp_path, capsys):
    from erc_core.cli import run_command

    target = tmp_path / "cache" / "frames.npy"

    def short_write(argv):
        with atomic_path(target):
            raise OSError("8000 requested and 6080 written")  # numpy's words for a full disk

    assert run_command(short_write, []) == 2
    one_error_line(capsys, f"error: {target}: no space left on device")
    assert not list(target.parent.iterdir())


def test_standard_output_on_a_full_device_is_one_error_line():
    if not os.path.exists("/dev/full"):
        pytest.skip("this machine has no /dev/full")
    script = ("import sys; from erc_core.cli import run_command; "
              "sys.exit(run_command(lambda argv: print('x' * 99999), []))")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", script], stdout=full, stderr=subprocess.PIPE, text=True,
                              cwd=repo_root(), timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: standard output: No space left on device; the output was cut off"


# -- what a killed process leaves behind ----------------------------------------------------------------


def test_temp_files_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "features.pkl"
    killed = ("import os, sys; from erc_core.files import atomic_open\n"
              "with atomic_open(sys.argv[1], 'w') as handle:\n    handle.write('half'); handle.flush(); os._exit(9)")
    subprocess.run([sys.executable, "-c", killed, str(target)], cwd=repo_root(), timeout=120)
    assert len(list(tmp_path.glob(".features.pkl.*.tmp"))) == 1 and not target.exists()
    with atomic_open(target, "w") as handle:
        handle.write("whole")
    assert [p.name for p in tmp_path.iterdir()] == ["features.pkl"] and target.read_text() == "whole"


def test_a_killed_run_leaves_no_comet_archive_under_its_final_name(tmp_path):
    pytest.importorskip("comet_ml")
    from erc_core.tracking import TrackingConfig, start_tracker

    killed = tmp_path / "killed"
    start_tracker(TrackingConfig(), killed)  # comet creates its (empty) archive now and fills it at the end
    assert not list((killed / "comet").glob("*.zip"))
    finished = tmp_path / "finished"
    tracker = start_tracker(TrackingConfig(), finished)
    tracker.log_metrics({"loss": 1.0}, step=1)
    tracker.end()
    [archive] = (finished / "comet").glob("*.zip")
    with zipfile.ZipFile(archive) as opened:
        assert opened.namelist()
    assert not (finished / "comet" / ".in_progress").exists()
