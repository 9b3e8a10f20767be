"""The stage-3 config schema (`configs/stage3/*.yaml`, `key=value` overrides, `--help` lists it).

Keys shared with stage 1 (run_dir, seed, resume, overwrite, trainer.*, tracking.*) come from
`erc_core.run_config`; the model's keys are `cgnn.model.ModelConfig`."""

from dataclasses import dataclass
from typing import Literal

from cgnn.model import ModelConfig
from erc_core.config import option
from erc_core.run_config import RunConfig, TrainerConfig
from erc_core.tracking import TrackingConfig


@dataclass
class DataConfig:
    path: str = option("data/demo_features.pkl", help="conversation pickle (stage 2 or kemdy-import)")
    modality: str = option("all", help="features to concatenate: all (every one-letter feature of the pickle, "
                           "in its order), one-letter names (a, t, at, atp) or a feature name (fused)")
    batch_size: int = option(32, help="dialogues per batch")
    max_train_dialogues: int = option(0, help="quick runs: only the first N train dialogues; 0 = all")


@dataclass
class LossConfig:
    class_weights: bool = option(False, help="weigh class c by N / (K * count_c) on the train split")


@dataclass
class OptimConfig:
    name: Literal["adamw", "adam"] = option("adamw", help="optimizer")
    lr: float = option(1e-3, help="peak learning rate")
    weight_decay: float = option(1e-2, help="weight decay")
    scheduler: Literal["cosine", "linear", "constant", "plateau"] = option(
        "cosine", help="per optimizer step after the warmup: cosine / linear decay to 0 at the last step, or "
        "constant; plateau = ReduceLROnPlateau on the dev loss once per epoch (COGMEN)")
    warmup: float = option(0.1, help="share of all optimizer steps with a linear warmup from 0 (not with plateau)")
    scheduler_factor: float = option(0.1, help="plateau: factor on the dev loss")
    scheduler_patience: int = option(10, help="plateau: patience (epochs)")


@dataclass
class Stage3TrainerConfig(TrainerConfig):
    max_epochs: int = option(55, help="training epochs")
    early_stopping_patience: int = option(0, help="epochs without a better dev weighted-F1 before stopping; 0 = off")
    early_stopping_start: float = option(0.5, help="early stopping never ends a run before this share of max_epochs "
                                         "(a model still at its start is not the one kept)")
    gradient_clip_val: float = option(0.0, help="clip the gradient norm to this; 0 = no clipping")


@dataclass
class Stage3TrackingConfig(TrackingConfig):
    project: str = option("kemdy-erc-stage3", help="comet project name")


@dataclass
class Stage3Config(RunConfig):
    run_dir: str = option("runs/stage3", help="output folder: model.safetensors, config.json, metrics.json, plots")
    seed: int = option(24, help="random seed")
    data: DataConfig = option(factory=DataConfig, help="")
    model: ModelConfig = option(factory=ModelConfig, help="")
    loss: LossConfig = option(factory=LossConfig, help="")
    optim: OptimConfig = option(factory=OptimConfig, help="")
    trainer: Stage3TrainerConfig = option(factory=Stage3TrainerConfig, help="")
    tracking: Stage3TrackingConfig = option(factory=Stage3TrackingConfig, help="")
