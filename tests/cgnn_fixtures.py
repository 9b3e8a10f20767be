"""Small synthetic conversation pickles for the stage-3 tests, written through write_conversations.

Ground truth is known by construction: each utterance's features are its class prototype plus
noise, so a model can learn them; speakers alternate between `speakers` names."""

import numpy as np

from cgnn.conversation_pickle import write_conversations

LABELS = ["neutral", "happy", "angry"]


def make_dialogues(count=12, dims=None, num_classes=3, speakers=2, lengths=(3, 9), seed=0,
                   splits=("train", "train", "train", "train", "dev", "test"), noise=0.5):
    dims = dims or {"a": 6, "t": 5}
    rng = np.random.default_rng(seed)
    prototypes = {name: rng.normal(size=(num_classes, dim)).astype(np.float32) for name, dim in dims.items()}
    dialogues = []
    for index in range(count):
        n = int(rng.integers(lengths[0], lengths[1] + 1))
        labels = rng.integers(0, num_classes, size=n)
        dialogue_id = f"Sess{index:02d}_script01"
        dialogues.append({
            "dialogue_id": dialogue_id,
            "split": splits[index % len(splits)],
            "segment_ids": [f"{dialogue_id}_{i:03d}" for i in range(n)],
            "speakers": [f"spk{(i % speakers)}" for i in range(n)],
            "labels": labels.astype(np.int64),
            "features": {name: (p[labels] + noise * rng.normal(size=(n, p.shape[1]))).astype(np.float32)
                         for name, p in prototypes.items()},
        })
    return dialogues


def write_pickle(path, dialogues=None, label_names=None, **kwargs):
    dialogues = dialogues if dialogues is not None else make_dialogues(**kwargs)
    return write_conversations(path, dialogues, label_names or LABELS, {"producer": "tests"})


SMALL_RUN = ("data.modality=at", "trainer.max_epochs=4", "data.batch_size=4", "optim.lr=3e-3",
             "trainer.early_stopping_patience=0", "tracking.comet=false", "trainer.progress_bar=false",
             "trainer.accelerator=cpu", "model.hidden=16", "model.encoder_heads=2",
             "model.encoder_feedforward=32", "model.dropout=0.1")


def stage3_config(data, run_dir, *overrides):
    """A seconds-long stage-3 config, built through the real config loader (later overrides win)."""
    from cgnn.config import Stage3Config
    from erc_core.config import load_config

    return load_config(Stage3Config, None, [f"data.path={data}", f"run_dir={run_dir}", *SMALL_RUN, *overrides])
