"""Stage 2 on the tiny run: the pickle validates, follows the generator's ground truth, matches
features to utterances by segment id (a shuffled index gives the same pickle), lists bad input,
and refuses checkpoints / indexes that do not fit."""

import json
import os
import shutil
import socket
import subprocess

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from cgnn.conversation_pickle import read_conversations
from erc_core.errors import UserError
from erc_core.labels import EMOTIONS
from feature_extractor.extraction.distributed import merge_shards
from feature_extractor.extraction.extract import extract_from_args, skipped_path
from feature_extractor.inputs.physio_vector import PHYSIO_DIM
from tests.stage12_fixtures import python, repo_root, trained_tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.set_num_threads(1)
    return trained_tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def pickle_path(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("stage2") / "features.pkl"
    extract(run["run_dir"], run["index"], out)
    return out


def extract(checkpoint, index, out, *extra):
    return extract_from_args(["--checkpoint", str(checkpoint), "--index", str(index), "--out", str(out),
                         "--num-workers", "0", "--threads", "1", "--no-progress", *extra])


def copy_index(index_dir, target, edit):
    """A copy of an index folder whose index.csv is passed through `edit(frame) -> frame`."""
    shutil.copytree(index_dir, target)
    frame = pd.read_csv(target / "index.csv", dtype=str, keep_default_na=False)
    edit(frame).to_csv(target / "index.csv", index=False)
    return target


def test_pickle_follows_the_generator_ground_truth(run, pickle_path):
    data = read_conversations(pickle_path)  # restricted unpickler + full validation
    truth = pd.read_csv(run["root"] / "synthetic_ground_truth.csv")
    truth = truth[~truth["total_emotion_written"].str.contains(";")]  # the index drops ties
    assert data.label_names == list(EMOTIONS)
    assert data.feature_dims == {"t": 32, "a": 32, "fused": 64, "p": PHYSIO_DIM}
    assert [d["dialogue_id"] for d in data.dialogues] == sorted(truth["dialogue_id"].unique())
    for dialogue in data.dialogues:
        expected = truth[truth["dialogue_id"] == dialogue["dialogue_id"]].sort_values("turn")
        assert dialogue["segment_ids"] == expected["segment_id"].tolist()
        assert dialogue["speakers"] == expected["speaker"].tolist()
        assert dialogue["labels"].tolist() == [EMOTIONS.index(e) for e in expected["total_emotion_written"]]
        np.testing.assert_allclose(dialogue["valence"], expected["valence"], atol=1e-6)
        session = int(dialogue["dialogue_id"][4:6])  # KEMDy19 default: dev 17-18, test 19-20
        assert dialogue["split"] == {17: "dev", 18: "dev", 19: "test", 20: "test"}.get(session, "train")
    assert sum(len(d["segment_ids"]) for d in data.dialogues) == len(truth)


def test_fused_features_reproduce_the_stage1_test_accuracy(run, pickle_path):
    """Feeding the exported `fused` vectors to the exported classifier gives the predictions
    stage 1 scored: features sit on the right utterances and the export is the scored model."""
    data = read_conversations(pickle_path)
    weights = load_file(str(run["run_dir"] / "export/model.safetensors"))
    test = data.in_split("test")
    fused = np.concatenate([d["features"]["fused"] for d in test])
    labels = np.concatenate([d["labels"] for d in test])
    logits = fused @ weights["head.classifier.weight"].numpy().T + weights["head.classifier.bias"].numpy()
    accuracy = float((logits.argmax(axis=1) == labels).mean())
    metrics = json.loads((run["run_dir"] / "metrics.json").read_text(encoding="utf-8"))
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])
    np.testing.assert_allclose(fused[:, :32], np.concatenate([d["features"]["t"] for d in test]), atol=1e-6)


def test_shuffled_index_gives_the_same_pickle(run, pickle_path, tmp_path):
    shuffled = copy_index(run["index"], tmp_path / "index", lambda f: f.sample(frac=1.0, random_state=7))
    assert pd.read_csv(shuffled / "index.csv")["segment_id"].tolist() != pd.read_csv(run["index"] / "index.csv")["segment_id"].tolist()
    out = tmp_path / "shuffled.pkl"
    extract(run["run_dir"], shuffled, out)
    reference, result = read_conversations(pickle_path), read_conversations(out)
    assert [d["dialogue_id"] for d in result.dialogues] == [d["dialogue_id"] for d in reference.dialogues]
    for ours, theirs in zip(result.dialogues, reference.dialogues):
        assert ours["segment_ids"] == theirs["segment_ids"]
        assert ours["labels"].tolist() == theirs["labels"].tolist()
        for name in theirs["features"]:
            np.testing.assert_allclose(ours["features"][name], theirs["features"][name], atol=1e-5)


def test_bad_utterances_are_skipped_listed_and_counted_and_empty_text_stays(run, tmp_path):
    """Unreadable audio is skipped; an utterance with audio and an empty transcript stays in its
    conversation with an empty text input (no hole in the dialogue)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(run["root"], corpus)
    frame = pd.read_csv(run["index"] / "index.csv", dtype=str, keep_default_na=False)
    broken, silent_text = frame["segment_id"].iloc[3], frame["segment_id"].iloc[5]
    (corpus / frame["wav_path"].iloc[3]).write_bytes(b"not a wav file")

    def blank_text(table):
        table.loc[table["segment_id"] == silent_text, "text"] = ""
        return table

    index = copy_index(run["index"], tmp_path / "index", blank_text)
    out = tmp_path / "features.pkl"
    summary = extract(run["run_dir"], index, out, "--corpus-root", str(corpus))
    skipped = pd.read_csv(skipped_path(out))
    assert dict(zip(skipped["segment_id"], skipped["reason"])) == {broken: "unreadable"}
    assert summary["skipped"] == 1 and summary["utterances"] == len(frame) - 1
    kept = {s for d in read_conversations(out).dialogues for s in d["segment_ids"]}
    assert broken not in kept and silent_text in kept and len(kept) == len(frame) - 1


def test_labels_outside_the_checkpoint_classes_fail_clearly(run, tmp_path):
    def unknown_label(table):
        table.loc[2, ["label", "emotion"]] = ["7", "bored"]
        return table

    index = copy_index(run["index"], tmp_path / "index", unknown_label)
    with pytest.raises(ValueError, match=r"line 4 .*label 7 / emotion 'bored'"):
        extract(run["run_dir"], index, tmp_path / "x.pkl")
    assert not (tmp_path / "x.pkl").exists()


def test_encoder_mismatch_is_named(run, tmp_path):
    with pytest.raises(ValueError, match=r"model\.audio\.name=.*'w11wo/wav2vec2-xls-r-300m-korean'"):
        extract(run["run_dir"], run["index"], tmp_path / "x.pkl", "model.audio.name=w11wo/wav2vec2-xls-r-300m-korean")
    export = tmp_path / "export"
    shutil.copytree(run["run_dir"] / "export", export)
    config_file = export / "text_encoder/config.json"
    config = json.loads(config_file.read_text())
    config["num_hidden_layers"] = 3
    config_file.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"num_hidden_layers: recorded 2, folder 3"):
        extract(export, run["index"], tmp_path / "y.pkl")


def test_merge_keeps_every_segment_once_and_the_lowest_rank_copy():
    rank0 = {"a": {"t": np.array([0.0])}, "b": {"t": np.array([1.0])}}
    rank1 = {"c": {"t": np.array([2.0])}, "a": {"t": np.array([9.0])}}  # "a" again: sampler padding
    merged = merge_shards([rank0, rank1])
    assert sorted(merged) == ["a", "b", "c"]
    assert merged["a"]["t"].tolist() == [0.0]


def test_two_process_extraction_writes_the_same_pickle(run, pickle_path, tmp_path):
    """torchrun with 2 gloo processes: each rank extracts its shard, rank 0 merges by segment id.
    Ranks run the very batches one process would, so the features are bitwise identical."""
    out = tmp_path / "ddp.pkl"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(repo_root()))
    command = [python(), "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(free_port()), "-m", "feature_extractor.extraction.extract", "--checkpoint", str(run["run_dir"]),
               "--index", str(run["index"]), "--out", str(out), "--num-workers", "0", "--threads", "1", "--no-progress"]
    result = subprocess.run(command, cwd=repo_root(), env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    sharded, single = read_conversations(out), read_conversations(pickle_path)
    assert sharded.config["world_size"] == 2 and single.config["world_size"] == 1
    assert [d["segment_ids"] for d in sharded.dialogues] == [d["segment_ids"] for d in single.dialogues]
    for ours, theirs in zip(sharded.dialogues, single.dialogues):
        for name in theirs["features"]:
            assert np.array_equal(ours["features"][name], theirs["features"][name]), (ours["dialogue_id"], name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_dev_or_test_utterances_stage1_trained_on_are_refused_naming_the_sessions(run, tmp_path):
    """The audit's case: an index whose test split is stage 1's training sessions (e.g. the index of
    another fold) would give a pickle whose test utterances were stage-1 training data."""
    def train_sessions_as_test(table):
        table.loc[table["session"].isin(["1", "2"]), "split"] = "test"
        table.loc[table["session"].isin(["19", "20"]), "split"] = "train"
        return table

    index = copy_index(run["index"], tmp_path / "index", train_sessions_as_test)
    with pytest.raises(UserError, match=r"28 test utterance\(s\) from session\(s\) 1, 2 were stage-1 training data"):
        extract(run["run_dir"], index, tmp_path / "leaky.pkl")
    assert not (tmp_path / "leaky.pkl").exists()

    extract(run["run_dir"], index, tmp_path / "allowed.pkl", "--allow-train-overlap")
    check = read_conversations(tmp_path / "allowed.pkl").config["provenance"]["train_overlap_check"]
    assert check == {"checked": True, "overlapping_utterances": 28, "allowed": True}


def test_the_pickle_carries_the_split_provenance_of_both_stages(run, pickle_path):
    provenance = read_conversations(pickle_path).config["provenance"]
    trained = provenance["stage1_splits"]["splits"]["train"]
    index = pd.read_csv(run["index"] / "index.csv", dtype=str, keep_default_na=False)
    assert trained["segments"] == sorted(index.loc[index["split"] == "train", "segment_id"])
    assert trained["sessions"] == ["1", "2"]
    assert provenance["stage1_splits"]["index_sha256"] == provenance["index_sha256"]
    assert provenance["train_overlap_check"] == {"checked": True, "overlapping_utterances": 0, "allowed": False}
    assert provenance["run"]["packages"]["torch"].startswith("2.13.0")


def test_a_moved_corpus_is_one_line_naming_the_corpus_root_setting(run, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(run["index"], index)
    meta = json.loads((index / "index.meta.json").read_text(encoding="utf-8"))
    meta["corpus_root"] = str(tmp_path / "moved_away")
    (index / "index.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(UserError, match=r"every utterance was skipped.*missing_wav.*--corpus-root"):
        extract(run["run_dir"], index, tmp_path / "x.pkl")
