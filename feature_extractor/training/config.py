"""The stage-1 config schema (`configs/stage1/*.yaml`, `key=value` overrides, `--help` lists it).

Keys shared with stage 3 (run_dir, seed, resume, overwrite, trainer.*, tracking.*) come from
`erc_core.run_config`; the rest are stage 1's own."""

from dataclasses import dataclass
from typing import Literal, Optional

from erc_core.config import option
from erc_core.run_config import RunConfig, TrainerConfig
from erc_core.tracking import TrackingConfig
from feature_extractor.training.losses.loss import LossConfig

TINY = "tiny"  # as an encoder name: the tiny preset built from the corpus (tiny_preset.*)


@dataclass
class TextEncoderConfig:
    name: str = option("klue/roberta-base", help="hub id or local folder, or `tiny` for the tiny preset; "
                       "alternatives: klue/roberta-large, beomi/KcELECTRA-base")
    pooling: Literal["mean", "cls"] = option("mean", help="mean over real tokens, or the [CLS] vector")
    layer: int = option(-1, help="which hidden layer to read (-1 = last)")
    freeze: bool = option(False, help="keep the text encoder's weights fixed")
    max_tokens: int = option(128, help="tokens per input (context included); at most the model's position limit")
    context_before: int = option(3, help="previous utterances of the dialogue put before the target as "
                                 "`speaker: text` (cut from the far end first; the target is always kept); 0 = off")
    context_after: int = option(0, help="following utterances put after the target (cut from the far end first)")
    gradient_checkpointing: bool = option(False, help="trade compute for memory")


@dataclass
class AudioEncoderConfig:
    kind: Literal["hf", "acoustic"] = option("hf", help="hf (wav2vec2 family) | acoustic (librosa features, no download)")
    name: str = option("w11wo/wav2vec2-xls-r-300m-korean", help="hub id or local folder, or `tiny` for the tiny "
                       "preset (kind=hf); alternative: kresnik/wav2vec2-large-xlsr-korean")
    layer: int = option(-1, help="which hidden layer to read (-1 = last)")
    freeze: bool = option(False, help="keep the audio encoder's weights fixed")
    freeze_feature_encoder: bool = option(True, help="keep the CNN waveform front end fixed")
    gradient_checkpointing: bool = option(False, help="trade compute for memory")
    layerdrop: float = option(0.0, help="kind=hf: wav2vec2 LayerDrop; above 0 needs trainer.strategy="
                              "ddp_find_unused_parameters_true on several GPUs (a skipped layer has no gradient)")
    acoustic_hidden: int = option(128, help="kind=acoustic: width of the conv net")
    acoustic_layers: int = option(2, help="kind=acoustic: conv layers")
    acoustic_stride: int = option(4, help="kind=acoustic: frames averaged before the convolutions (100 -> 25 per s)")


@dataclass
class ModelConfig:
    head: str = option("concat", help="fusion head: concat | audio_only | text_only | any registered head")
    head_options: dict = option(factory=dict, help="keyword options of the head")
    predict_va: Optional[bool] = option(None, help="predict valence/arousal; null = the head's own default "
                                        "(tensor_mixer: on)")
    use_physio: bool = option(False, help="feed the physiological vector `p` to the head")
    text: TextEncoderConfig = option(factory=TextEncoderConfig, help="")
    audio: AudioEncoderConfig = option(factory=AudioEncoderConfig, help="")


@dataclass
class TinyPresetConfig:
    """Sizes of the small random-init encoders + corpus-trained WordPiece tokenizer that an encoder
    named `tiny` stands for."""

    out_dir: Optional[str] = option(None, help="where the tiny models are saved; default <run_dir>/tiny_models")
    hidden: int = option(64, help="hidden size of both tiny encoders")
    layers: int = option(2, help="transformer layers")
    heads: int = option(2, help="attention heads")
    conv_dim: int = option(32, help="tiny wav2vec2 CNN channels")
    vocab_size: int = option(1000, help="WordPiece vocabulary size")


@dataclass
class DataConfig:
    index: str = option("", help="folder holding index.csv + index.meta.json (kemdy-index)")
    corpus_root: Optional[str] = option(None, help="corpus root; default: the root recorded in index.meta.json")
    max_audio_seconds: float = option(10.0, help="crop: a random window in training, eval_crop at evaluation")
    eval_crop: Literal["center", "first"] = option("center", help="which window evaluation reads")
    batch_size: int = option(8, help="training utterances per batch (per device)")
    eval_batch_size: int = option(16, help="evaluation utterances per batch")
    bucket_batches: int = option(50, help="batches per length-sorting pool")
    num_workers: int = option(2, help="DataLoader worker processes")
    scan_workers: int = option(2, help="processes for the pre-flight audio check (and acoustic features)")
    max_train_samples: Optional[int] = option(None, help="quick runs: a seeded random subset of the train split")
    max_eval_samples: Optional[int] = option(None, help="quick runs: a seeded random subset of dev and test")
    feature_cache: Optional[str] = option(None, help="acoustic frame-feature cache; default <run_dir>/acoustic_cache")
    log_shards: bool = option(False, help="write the segment ids each rank trained on (shards/), an audit trail")


@dataclass
class OptimConfig:
    lr: float = option(5e-5, help="AdamW learning rate of the encoders")
    head_lr: Optional[float] = option(None, help="learning rate of the head; null = lr")
    weight_decay: float = option(0.01, help="AdamW weight decay (not on biases and norms)")
    warmup_ratio: float = option(0.1, help="linear warmup over this share of all steps, then linear decay to 0")


@dataclass
class Stage1TrainerConfig(TrainerConfig):
    num_nodes: int = option(1, help="machines (Lightning)")
    strategy: str = option("auto", help="Lightning strategy, e.g. ddp, ddp_find_unused_parameters_true")
    precision: str = option("auto", help="auto = bf16-mixed on a bf16-capable GPU, else 32-true")
    accumulate_grad_batches: int = option(1, help="optimizer step every N batches")
    checkpoint_every_n_steps: Optional[int] = option(None, help="also refresh last.ckpt every N steps")
    log_every_n_steps: int = option(10, help="tracking: log the train loss every N steps")


@dataclass
class Stage1TrackingConfig(TrackingConfig):
    project: str = option("kemdy-erc-stage1", help="comet project name")


@dataclass
class Stage1Config(RunConfig):
    run_dir: str = option("runs/stage1", help="output folder: export/, checkpoints/, metrics.json, plots")
    tiny_preset: TinyPresetConfig = option(factory=TinyPresetConfig, help="")
    model: ModelConfig = option(factory=ModelConfig, help="")
    data: DataConfig = option(factory=DataConfig, help="")
    loss: LossConfig = option(factory=LossConfig, help="")
    optim: OptimConfig = option(factory=OptimConfig, help="")
    trainer: Stage1TrainerConfig = option(factory=Stage1TrainerConfig, help="")
    tracking: Stage1TrackingConfig = option(factory=Stage1TrackingConfig, help="")
