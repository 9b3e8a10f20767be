"""Stage-1 configuration schema (YAML in configs/stage1/, `key=value` overrides, see erc_core/config.py)."""

from dataclasses import dataclass, field
from typing import Optional

from feature_extractor.training.losses.loss import LossConfig


@dataclass
class TextEncoderConfig:
    name: str = "klue/roberta-base"  # hub id or local folder; alternatives: klue/roberta-large, beomi/KcELECTRA-base
    pooling: str = "mean"  # mean (over real tokens) | cls
    layer: int = -1  # which hidden layer to read (-1 = last)
    freeze: bool = False
    max_tokens: int = 128
    gradient_checkpointing: bool = False


@dataclass
class AudioEncoderConfig:
    kind: str = "hf"  # hf (wav2vec2 family) | acoustic (librosa features, no download)
    name: str = "w11wo/wav2vec2-xls-r-300m-korean"  # alternative: kresnik/wav2vec2-large-xlsr-korean
    layer: int = -1
    freeze: bool = False
    freeze_feature_encoder: bool = True  # the CNN waveform front end
    gradient_checkpointing: bool = False
    acoustic_hidden: int = 128
    acoustic_layers: int = 2
    acoustic_stride: int = 4  # frames averaged before the convolutions (100 -> 25 per second)


@dataclass
class ModelConfig:
    head: str = "concat"  # concat | audio_only | text_only | any registered head
    head_options: dict = field(default_factory=dict)
    predict_va: Optional[bool] = None  # None = the head's own default (tensor_mixer: on)
    use_physio: bool = False  # feed the physiological vector `p` to the head
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    audio: AudioEncoderConfig = field(default_factory=AudioEncoderConfig)


@dataclass
class TinyPresetConfig:
    """Build small random-init encoders + a corpus-trained WordPiece tokenizer, and use them."""

    enabled: bool = False
    out_dir: Optional[str] = None  # default: <run_dir>/tiny_models
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    conv_dim: int = 32
    vocab_size: int = 1000


@dataclass
class DataConfig:
    index: str = ""  # folder holding index.csv + index.meta.json
    corpus_root: Optional[str] = None  # default: the root recorded in index.meta.json
    max_audio_seconds: float = 10.0  # crop: random window in training, eval_crop at evaluation
    eval_crop: str = "center"  # center | first
    batch_size: int = 8
    eval_batch_size: int = 16
    bucket_batches: int = 50  # batches per length-sorting pool
    num_workers: int = 2  # DataLoader worker processes
    scan_workers: int = 2  # processes for the pre-flight audio check (and acoustic features)
    max_train_samples: Optional[int] = None
    max_eval_samples: Optional[int] = None
    feature_cache: Optional[str] = None  # acoustic frame-feature cache; default <run_dir>/acoustic_cache
    log_shards: bool = False  # write the segment ids each rank trained on (shards/), an audit trail


@dataclass
class OptimConfig:
    lr: float = 5e-5
    head_lr: Optional[float] = None  # default: lr
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1  # linear warmup over this share of all steps, then linear decay to 0


@dataclass
class TrainerConfig:
    max_epochs: int = 15
    accelerator: str = "auto"
    devices: object = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "auto"  # auto = bf16-mixed on a bf16-capable GPU, else 32-true
    accumulate_grad_batches: int = 1
    gradient_clip_val: Optional[float] = 1.0
    early_stopping_patience: int = 5  # epochs without a better dev weighted-F1; 0 = off
    checkpoint_every_n_steps: Optional[int] = None  # also refresh last.ckpt mid-epoch
    log_every_n_steps: int = 10
    progress_bar: bool = True
    deterministic: bool = False
    cpu_threads: Optional[int] = None  # torch intra-op threads (None: torch default); 1 is fastest for tiny models on a busy CPU


@dataclass
class TrackingConfig:
    comet: bool = True  # online with COMET_API_KEY, else an offline archive in <run_dir>/comet
    project: str = "kemdy-erc-stage1"
    workspace: Optional[str] = None
    experiment_name: Optional[str] = None


@dataclass
class Stage1Config:
    run_dir: str = "runs/stage1"
    seed: int = 0
    resume: bool = False  # continue from <run_dir>/checkpoints/last.ckpt
    tiny_preset: TinyPresetConfig = field(default_factory=TinyPresetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
