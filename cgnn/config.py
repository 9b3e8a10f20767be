"""The stage-3 config schema (`configs/stage3/*.yaml`, `key=value` overrides, `--help` lists it).

Keys shared with stage 1 (run_dir, seed, resume, overwrite, trainer.*, tracking.*) come from
`erc_core.run_config`; the model's keys are `ModelConfig` below (read by cgnn/model.py). The module
imports no torch, so `kemdy-stage3-train --help` answers from it at once (erc_core/commands.py)."""

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from erc_core.checks import above, at_least, between
from erc_core.config import option
from erc_core.errors import UserError
from erc_core.run_config import RunConfig, TrainerConfig
from erc_core.tracking import TrackingConfig


@dataclass
class DataConfig:
    path: str = option("data/demo_features.pkl", help="conversation pickle (stage 2 or kemdy-import)")
    modality: str = option("all", help="features to concatenate: all (every one-letter feature of the pickle, "
                           "in its order), one-letter names (a, t, at, atp) or a feature name (fused)")
    batch_size: int = option(32, help="dialogues per batch (at most; see min_batches_per_epoch)", check=at_least(1))
    min_batches_per_epoch: int = option(4, help="smaller batches for a small corpus, so that an epoch makes at least "
                                        "this many optimizer steps (cgnn/budget.py); 0 = batch_size always",
                                        check=at_least(0))
    max_train_dialogues: int = option(0, help="quick runs: only the first N train dialogues; 0 = all",
                                      check=at_least(0))


@dataclass
class ModelConfig:
    hidden: int = option(100, help="hidden size (COGMEN hidden_size)", check=at_least(1))
    encoder: Literal["transformer", "lstm", "gru"] = option("transformer", help="sequence encoder over each dialogue")
    encoder_layers: int = option(1, help="sequence encoder layers (COGMEN seqcontext_nlayer: 2)", check=at_least(1))
    encoder_heads: int = option(4, help="transformer heads; must divide the encoder width; 0 = COGMEN's rule "
                                "(first divisor of the width in 7..14)", check=at_least(0))
    encoder_feedforward: int = option(400, help="transformer feed-forward width", check=at_least(1))
    attention_dropout: float = option(0.0, help="dropout on the transformer's attention weights (COGMEN: = dropout)",
                                      check=between(0, 1, high_open=True))
    input_norm: Literal["layer", "modality", "batch", "none"] = option(
        "layer", help="normalise each utterance's features (layer), each modality of it on its own with equal norm "
        "(modality; = layer for one modality), each dimension (batch) or not at all")
    fusion: Literal["early", "late"] = option(
        "late", help="several modalities: early = one model on the concatenated features; late = one model per "
        "modality, log-probabilities mixed with weights chosen on dev (cgnn/late_fusion.py)")
    modality_dropout: float = option(0.0, help="training: drop each modality of an utterance with this probability "
                                     "(never all; cgnn/modality_fusion.py)", check=between(0, 1, high_open=True))
    project_first: bool = option(True, help="project to `hidden` before the transformer; false = the transformer "
                                 "runs at the input width and projects after (COGMEN)")
    positional: bool = option(False, help="sinusoidal positions, added with a learned scale")
    position_scale: float = option(0.1, help="initial value of that learned scale")
    wp: int = option(10, help="past window of the graph, -1 = whole dialogue (COGMEN: 5)", check=at_least(-1))
    wf: int = option(10, help="future window of the graph, -1 = whole dialogue (COGMEN: 5)", check=at_least(-1))
    relations: Literal["same_other", "speaker_pair"] = option("same_other", help="relation scheme: same/other "
                                                              "speaker x past/future (4, any speaker count) or "
                                                              "COGMEN's speaker x speaker x past/future (2 S^2)")
    speaker_map: list = option(factory=list, help="[] = speakers numbered by first appearance; [M, F] = a fixed "
                               "map by speaker name (COGMEN)")
    gnn_heads: int = option(1, help="graph attention heads (COGMEN gnn_nheads)", check=at_least(1))
    rgcn_bases: int = option(0, help="basis decomposition of the relation weights; 0 = none (COGMEN)",
                             check=at_least(0))
    concat_sequence: bool = option(True, help="classify [sequence output, GNN output] (COGMEN concat_gin_gout)")
    dropout: float = option(0.5, help="dropout", check=between(0, 1, high_open=True))
    num_speakers: int = option(0, help="speakers per dialogue the graph handles; 0 = len(speaker_map), else the "
                               "most in any dialogue of the pickle", check=at_least(0))


@dataclass
class LossConfig:
    class_weights: bool = option(False, help="weigh class c by N / (K * count_c) on the train split")


@dataclass
class OptimConfig:
    name: Literal["adamw", "adam"] = option("adamw", help="optimizer")
    lr: float = option(1e-3, help="peak learning rate", check=above(0))
    weight_decay: float = option(1e-2, help="weight decay", check=at_least(0))
    scheduler: Literal["cosine", "linear", "constant", "plateau"] = option(
        "cosine", help="per optimizer step after the warmup: cosine / linear decay to 0 at the last step, or "
        "constant; plateau = ReduceLROnPlateau on the dev loss once per epoch (COGMEN)")
    warmup: float = option(0.1, help="share of all optimizer steps with a linear warmup from 0 (not with plateau)",
                           check=between(0, 1, high_open=True))
    scheduler_factor: float = option(0.1, help="plateau: factor on the dev loss",
                                     check=between(0, 1, low_open=True, high_open=True))
    scheduler_patience: int = option(10, help="plateau: patience (epochs)", check=at_least(0))


@dataclass
class Stage3TrainerConfig(TrainerConfig):
    max_epochs: int = option(55, help="training epochs (at least; see min_steps)", check=at_least(1))
    min_steps: int = option(0, help="raise the epochs until the run makes at least this many optimizer steps "
                            "(a small corpus makes few steps per epoch; cgnn/budget.py); 0 = max_epochs alone",
                            check=at_least(0))
    early_stopping_patience: int = option(0, help="epochs without a better dev weighted-F1 before stopping; 0 = off",
                                          check=at_least(0))
    early_stopping_start: float = option(0.5, help="early stopping never ends a run before this share of max_epochs "
                                         "(a model still at its start is not the one kept)", check=between(0, 1))
    gradient_clip_val: float = option(0.0, help="clip the gradient norm to this; 0 = no clipping", check=at_least(0))


@dataclass
class Stage3TrackingConfig(TrackingConfig):
    project: str = option("kemdy-erc-stage3", help="comet project name")


@dataclass
class Stage3Config(RunConfig):
    config_folder: ClassVar[str] = "stage3"  # `--config demo` = the shipped configs/stage3/demo.yaml
    run_dir: str = option("runs/stage3", help="output folder: model.safetensors, config.json, metrics.json, plots")
    seed: int = option(24, help="random seed")
    baseline: bool = option(True, help="report the context-free logistic regression on the same features and split "
                            "next to the result (fitted once per pickle, cached; cgnn/baseline_report.py)")
    data: DataConfig = option(factory=DataConfig, help="")
    model: ModelConfig = option(factory=ModelConfig, help="")
    loss: LossConfig = option(factory=LossConfig, help="")
    optim: OptimConfig = option(factory=OptimConfig, help="")
    trainer: Stage3TrainerConfig = option(factory=Stage3TrainerConfig, help="")
    tracking: Stage3TrackingConfig = option(factory=Stage3TrackingConfig, help="")

    def check_inputs(self) -> None:
        """Before a run: the pickle it reads (a relative path is read from the current folder)."""
        if not Path(self.data.path).is_file():
            raise UserError(f"data.path={self.data.path}: no such file (relative paths are read from the current "
                            f"folder, {Path.cwd()}; give the conversation pickle to train on)")
