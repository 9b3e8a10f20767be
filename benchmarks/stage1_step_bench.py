"""Stage-1 training-step benchmark (not a test): forward + backward + AdamW step of the stage-1
model on random data, for model shapes built from config (random init, nothing downloaded).

    python benchmarks/stage1_step_bench.py [--shapes tiny acoustic base] [--threads 2]

Shapes:
  tiny      the tiny preset (wav2vec2 conv 32 / hidden 64 / 2 layers; RoBERTa hidden 64 / 2 layers)
  acoustic  tiny RoBERTa + the acoustic encoder (hidden 64) on cached-style frame features
  base      wav2vec2-base shape (conv 512, hidden 768, 12 layers) + roberta-base shape (hidden 768,
            12 layers, vocab 32k), CNN front end frozen as in the real recipe
Batch: 8 utterances of 6 s audio (the KEMDy19 mean is 5.7 s) and 24 tokens, concat head.
Reports the median of `--steps` timed steps after one warm-up step.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformers import RobertaConfig, RobertaModel, Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model  # noqa: E402

from feature_extractor.encoders.acoustic import FEATURE_NAMES  # noqa: E402
from feature_extractor.encoders.tiny_preset import _build_audio, _build_text  # noqa: E402
from feature_extractor.extractor import AudioTextExtractor  # noqa: E402
from feature_extractor.training.config import ModelConfig, TinyPresetConfig  # noqa: E402
from feature_extractor.training.losses.loss import LossConfig, compute_loss  # noqa: E402

BATCH, SECONDS, TOKENS = 8, 6.0, 24
TEXTS = ["오늘 정말 기분이 좋아요", "왜 그렇게 화가 났어", "그래 알았어 나중에 보자"] * 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["tiny", "acoustic", "base"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {"machine": {"cpus": os.cpu_count(), "threads": args.threads, "load_avg_1min": os.getloadavg()[0]},
               "batch": {"utterances": BATCH, "audio_seconds_each": SECONDS, "tokens": TOKENS}}
    with tempfile.TemporaryDirectory() as work:
        for shape in args.shapes:
            model = build_model(shape, Path(work) / shape)
            results[shape] = time_steps(model, shape, args.steps)
            print(json.dumps({shape: results[shape]}), flush=True)
    print(json.dumps(results, indent=2))


def build_model(shape: str, folder: Path) -> AudioTextExtractor:
    cfg = ModelConfig(head="concat")
    if shape in ("tiny", "acoustic"):
        _build_text(TEXTS, folder / "text", seed=0, cfg=TinyPresetConfig())
        _build_audio(folder / "audio", seed=0, cfg=TinyPresetConfig())
        cfg.audio.freeze_feature_encoder = False  # the demo trains the tiny front end too
    elif shape == "base":
        save_base_shapes(folder)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    cfg.text.name, cfg.audio.name = str(folder / "text"), str(folder / "audio")
    if shape == "acoustic":
        cfg.audio.kind, cfg.audio.acoustic_hidden = "acoustic", 64
    return AudioTextExtractor(cfg, num_classes=7).train()


def save_base_shapes(folder: Path) -> None:
    """wav2vec2-base / roberta-base architectures, random init, saved like hub folders."""
    from transformers import PreTrainedTokenizerFast

    from feature_extractor.encoders.tiny_preset import train_wordpiece

    torch.manual_seed(0)
    Wav2Vec2Model(Wav2Vec2Config(feat_extract_norm="layer", do_stable_layer_norm=True)).save_pretrained(folder / "audio")
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder / "audio")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=train_wordpiece(TEXTS, 200), unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    RobertaModel(RobertaConfig(vocab_size=32000, pad_token_id=0)).save_pretrained(folder / "text")
    tokenizer.save_pretrained(folder / "text")


def random_batch(shape: str, vocab_size: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    batch = {"labels": torch.randint(0, 7, (BATCH,), generator=generator),
             "input_ids": torch.randint(5, vocab_size, (BATCH, TOKENS), generator=generator),
             "token_mask": torch.ones(BATCH, TOKENS, dtype=torch.bool)}
    if shape == "acoustic":
        frames = int(SECONDS * 100)
        batch["audio"] = torch.randn(BATCH, frames, len(FEATURE_NAMES), generator=generator)
        batch["audio_mask"] = torch.ones(BATCH, frames, dtype=torch.bool)
    else:
        samples = int(SECONDS * 16000)
        batch["audio"] = 0.1 * torch.randn(BATCH, samples, generator=generator)
        batch["audio_mask"] = torch.ones(BATCH, samples, dtype=torch.bool)
    return batch


def time_steps(model: AudioTextExtractor, shape: str, steps: int) -> dict:
    batch = random_batch(shape, model.text_encoder.model.config.vocab_size)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    durations = []
    for step in range(steps + 1):
        start = time.perf_counter()
        output, _ = model(batch)
        compute_loss(output, batch["labels"], None, None, LossConfig()).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step:  # the first step is warm-up
            durations.append(time.perf_counter() - start)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    median = statistics.median(durations)
    return {"trainable_params_m": round(trainable / 1e6, 2), "step_s_median": round(median, 3),
            "steps_timed": steps, "audio_seconds_per_s": round(BATCH * SECONDS / median, 1)}


if __name__ == "__main__":
    main()
