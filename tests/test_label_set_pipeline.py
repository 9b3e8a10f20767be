"""A corpus with its own label set (not KEMDy's) through stages 1, 2 and 3, with dialogue context
in the stage-1 text input: every stage speaks the index's classes in the index's order, and
stage 2 builds the text input by the rule stage 1 trained with."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from cgnn.conversation_pickle import read_conversations
from cgnn.eval import evaluate_checkpoint
from cgnn.train import main as stage3_main
from erc_core.errors import UserError
from feature_extractor.corpus import read_index
from feature_extractor.corpus.index_builder import IndexResult
from feature_extractor.corpus.index_io import read_index_meta, write_index
from feature_extractor.export import Stage1Export, load_export
from feature_extractor.extraction.extract import extract_from_args
from feature_extractor.inputs.collate import Collator
from feature_extractor.inputs.dialogue_context import ContextWindow, with_dialogue_context
from feature_extractor.training.train import train_from_args
from tests.stage12_fixtures import repo_root, tiny_corpus, tiny_overrides

# not sorted, so a stage that sorts or falls back to KEMDy's order is caught
LABELS = ("up", "down", "calm")
TO_NEW = {"happy": "up", "surprise": "up", "angry": "down", "sad": "down", "disgust": "down", "fear": "down",
          "neutral": "calm"}


def relabelled_index(source, out):
    """The tiny KEMDy index re-labelled into LABELS, written without KEMDy's soft/rater columns."""
    frame = read_index(source).drop(columns=["wav_file"])
    frame = frame[[c for c in frame.columns if not c.startswith(("soft_", "rater_"))]]
    frame["emotion"] = frame["emotion_raw"] = frame["emotion"].map(TO_NEW)
    frame["label"] = frame["emotion"].map(LABELS.index)
    root = read_index_meta(source)["corpus_root"]
    write_index(IndexResult(frame, pd.DataFrame(columns=["segment_id", "file", "reason"]), "relabelled", root, LABELS), out)
    return out


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("label_set")
    index = relabelled_index(tiny_corpus(tmp_path_factory)["index"], base / "index")
    stage1 = base / "stage1"
    train_from_args(["--config", str(repo_root() / "configs/stage1/demo.yaml"),
                     *tiny_overrides(stage1, index, "model.text.context_before=2", "model.text.context_after=1")])
    pickle_path = base / "features.pkl"
    extract_from_args(["--checkpoint", str(stage1), "--index", str(index), "--out", str(pickle_path),
                       "--num-workers", "0", "--threads", "1", "--no-progress"])
    stage3 = base / "stage3"
    assert stage3_main(["--config", str(repo_root() / "configs/stage3/demo.yaml"), f"data.path={pickle_path}",
                        f"run_dir={stage3}", "trainer.max_epochs=2", "tracking.comet=false",
                        "trainer.progress_bar=false", "data.modality=t"]) == 0
    return {"index": index, "stage1": stage1, "pickle": pickle_path, "stage3": stage3, "base": base}


def test_every_stage_uses_the_index_label_set(pipeline):
    assert Stage1Export.read(pipeline["stage1"]).label_names == tuple(LABELS)
    stage1_metrics = json.loads((pipeline["stage1"] / "metrics.json").read_text(encoding="utf-8"))
    assert set(stage1_metrics["test"]["per_class"]) == set(LABELS)
    stage1_predictions = pd.read_csv(pipeline["stage1"] / "eval_test" / "predictions.csv")
    assert [c for c in stage1_predictions.columns if c.startswith("prob_")] == [f"prob_{name}" for name in LABELS]
    data = read_conversations(pipeline["pickle"])
    assert data.label_names == list(LABELS)
    index = read_index(pipeline["index"]).set_index("segment_id")
    for dialogue in data.dialogues:
        assert [LABELS[k] for k in dialogue["labels"]] == index.loc[dialogue["segment_ids"], "emotion"].tolist()
        assert "soft_labels" not in dialogue
    evaluate_checkpoint(pipeline["stage3"], pipeline["pickle"], split="test", out=pipeline["base"] / "eval")
    predictions = pd.read_csv(pipeline["base"] / "eval" / "predictions.csv")
    assert [c for c in predictions.columns if c.startswith("prob_")] == [f"prob_{name}" for name in LABELS]
    gold = index.loc[predictions["segment_id"], "emotion"].tolist()
    assert predictions["gold"].tolist() == gold


def test_stage2_builds_the_text_input_with_the_context_stage1_trained_with(pipeline):
    model, export = load_export(pipeline["stage1"])
    assert ContextWindow.of_export(export) == ContextWindow(before=2, after=1)
    data = read_conversations(pipeline["pickle"])
    dialogue = next(d for d in data.dialogues if len(d["segment_ids"]) >= 4)
    table = with_dialogue_context(read_index(pipeline["index"]), ContextWindow(2, 1)).set_index("segment_id")
    row = table.loc[dialogue["segment_ids"][2]]
    assert len(row["context_before"]) == 2 and len(row["context_after"]) == 1
    item = {"index": 0, "segment_id": row.name, "label": 0, "text": row["text"],
            "context_before": row["context_before"], "context_after": row["context_after"]}
    batch = Collator(model.tokenizer, export.inputs.max_tokens)([item])
    with torch.inference_mode():
        alone = model.text_encoder(batch["input_ids"], batch["token_mask"]).pooled[0].numpy()
    np.testing.assert_allclose(dialogue["features"]["t"][2], alone, atol=1e-5)


def test_an_index_of_another_label_set_is_refused_by_stage2(pipeline, tmp_path, tmp_path_factory):
    kemdy_index = tiny_corpus(tmp_path_factory)["index"]
    with pytest.raises(UserError, match="classes"):
        extract_from_args(["--checkpoint", str(pipeline["stage1"]), "--index", str(kemdy_index),
                           "--out", str(tmp_path / "x.pkl"), "--num-workers", "0", "--no-progress"])
