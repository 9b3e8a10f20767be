"""Stage 1 on the tiny synthetic corpus with the tiny preset: one real epoch on CPU, then checks of
everything the run leaves behind. Small pure functions are pinned by hand-computed values."""

import json

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from erc_core.errors import UserError
from erc_core.labels import EMOTIONS
from feature_extractor.corpus import read_index
from feature_extractor.export import load_export
from feature_extractor.inputs.index_table import check_labels
from feature_extractor.training.lightning_module import gather_records, warmup_then_linear_decay
from tests.stage12_fixtures import repo_root, tiny_corpus, tiny_overrides, trained_tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.set_num_threads(1)
    return trained_tiny_run(tmp_path_factory)


def test_run_folder_holds_export_metrics_config_and_resumable_checkpoint(run):
    run_dir = run["run_dir"]
    for name in ("config.yaml", "metrics.json", "skipped.csv", "checkpoints/last.ckpt",
                 "export/model.safetensors", "export/model_config.json", "export/config.yaml",
                 "export/text_encoder/config.json", "export/audio_encoder/preprocessor_config.json"):
        assert (run_dir / name).is_file(), name
    # the export holds no pickled module: only safetensors, JSON, YAML and HF text files
    suffixes = {path.suffix for path in (run_dir / "export").rglob("*") if path.is_file()}
    assert suffixes <= {".safetensors", ".json", ".yaml", ".txt"}
    checkpoint = torch.load(run_dir / "checkpoints/last.ckpt", weights_only=True)
    n_train = int((read_index(run["index"])["split"] == "train").sum())
    assert checkpoint["global_step"] == -(-n_train // 8)  # one epoch of batch-8 steps
    given = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    assert given["model"]["text"]["name"] == "tiny"  # as the user wrote it
    resolved = yaml.safe_load((run_dir / "export" / "config.yaml").read_text(encoding="utf-8"))
    assert resolved["model"]["text"]["name"] == str(run_dir / "tiny_models" / "text")  # the preset folder was used
    assert list((run_dir / "comet").glob("*.zip")), "offline Comet archive missing"


def test_metrics_cover_the_complete_test_split(run):
    index = read_index(run["index"])
    n_test = int((index["split"] == "test").sum())
    metrics = json.loads((run["run_dir"] / "metrics.json").read_text(encoding="utf-8"))
    assert metrics == json.loads(json.dumps(run["summary"]))
    assert metrics["best_epoch"] == 1 and len(metrics["dev_history"]) == 1
    test = metrics["test"]
    assert test["n"] == n_test > 0
    assert set(test["per_class"]) == set(EMOTIONS)
    assert sum(test["per_class"][name]["support"] for name in EMOTIONS) == n_test
    assert np.asarray(test["confusion_matrix"]).sum() == n_test
    assert test["accuracy"] == pytest.approx(np.trace(np.asarray(test["confusion_matrix"])) / n_test)


def test_export_reloads_offline_into_the_same_weights(run):
    model, export = load_export(run["run_dir"])
    saved = load_file(str(run["run_dir"] / "export/model.safetensors"))
    current = model.state_dict()
    assert set(saved) == set(current)
    for name, tensor in saved.items():
        assert torch.equal(current[name], tensor), name
    assert export.label_names == tuple(EMOTIONS)
    assert export.epoch == 0 and export.inputs.audio_kind == "hf"


def test_a_second_fresh_run_into_a_used_folder_is_refused(run):
    from feature_extractor.training.train import train_from_args

    config = str(repo_root() / "configs/stage1/demo.yaml")
    with pytest.raises(UserError, match="resume=true to continue it, overwrite=true"):
        train_from_args(["--config", config, *tiny_overrides(run["run_dir"], run["index"])])


def test_resume_without_a_checkpoint_is_refused(tmp_path_factory, tmp_path):
    from feature_extractor.training.train import train_from_args

    corpus = tiny_corpus(tmp_path_factory)
    config = str(repo_root() / "configs/stage1/demo.yaml")
    with pytest.raises(UserError, match="last.ckpt: resume=true but there is no saved state"):
        train_from_args(["--config", config, *tiny_overrides(tmp_path / "fresh", corpus["index"], "resume=true")])


def test_schedule_warms_up_then_decays_linearly():
    values = [warmup_then_linear_decay(step, warmup=2, total=6) for step in range(7)]
    assert values == pytest.approx([1 / 3, 2 / 3, 1.0, 0.75, 0.5, 0.25, 0.0])


def test_evaluation_records_are_deduplicated_by_index():
    records = [
        {"index": np.array([3, 1]), "pred": np.array([0, 2]), "label": np.array([0, 2])},
        {"index": np.array([1, 0]), "pred": np.array([2, 5]), "label": np.array([2, 4])},  # 1 repeated (padding)
    ]
    merged = gather_records(records)
    assert merged["index"].tolist() == [0, 1, 3]
    assert merged["pred"].tolist() == [5, 2, 0]
    assert merged["label"].tolist() == [4, 2, 0]


def test_labels_outside_the_class_list_fail_naming_the_row():
    import pandas as pd

    table = pd.DataFrame({"label": [0, 7], "emotion": ["neutral", "bored"], "segment_id": ["a", "b"], "split": ["train", "train"]})
    with pytest.raises(ValueError, match=r"line 3 \(b\): label 7"):
        check_labels(table, EMOTIONS, "idx")
    mismatched = table.assign(label=[0, 1], emotion=["neutral", "sad"])
    with pytest.raises(ValueError, match="line 3"):
        check_labels(mismatched, EMOTIONS, "idx")


def test_tiny_preset_is_deterministic_and_trained_on_the_train_split(run, tmp_path):
    from feature_extractor.encoders.tiny_preset import build_tiny_preset

    index = read_index(run["index"])
    train_texts = index.loc[index["split"] == "train", "text"]
    manifest = json.loads((run["run_dir"] / "tiny_models/preset.json").read_text(encoding="utf-8"))
    assert manifest["n_texts"] == len(train_texts)  # not the dev/test transcripts
    first = build_tiny_preset(train_texts, tmp_path / "a", seed=0)
    second = build_tiny_preset(train_texts, tmp_path / "b", seed=0)
    other_seed = build_tiny_preset(train_texts, tmp_path / "c", seed=1)
    for kind, weights_file in (("text", "model.safetensors"), ("audio", "model.safetensors")):
        a, b, c = (load_file(f"{folders[kind]}/{weights_file}") for folders in (first, second, other_seed))
        assert all(torch.equal(a[name], b[name]) for name in a)
        assert not all(torch.equal(a[name], c[name]) for name in a)
    tokenizer_files = [(tmp_path / name / "text/tokenizer.json").read_text(encoding="utf-8") for name in "ab"]
    assert tokenizer_files[0] == tokenizer_files[1]
