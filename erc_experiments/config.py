"""The runner's config schema (`configs/experiments/*.yaml`, `key=value` overrides; `--help` lists it).

    run_dir: runs/experiments/demo
    seeds: [0, 1, 2, 3, 4]
    folds: 5                       # 0 = the split the pickle / index already carries
    data: {index: work/index}      # or {pickle: work/features.pkl}
    configs:
      demo: {file: configs/stage3/demo.yaml, overrides: [data.modality=at]}
    baselines: [stage1, logreg]"""

import re
from dataclasses import dataclass
from typing import ClassVar, Dict, List, Optional

from erc_core.config import option
from erc_core.errors import UserError

BASELINES = ("stage1", "logreg")
RESERVED_NAMES = (*BASELINES, "folds", "features", "acoustic_cache")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class StageConfigRef:
    file: str = option("configs/stage3/default.yaml", help="the stage's YAML config")
    overrides: List[str] = option(factory=list, help="key=value overrides of that config")


@dataclass
class RunnerData:
    pickle: Optional[str] = option(None, help="pickle mode: a conversation pickle (stage 2 or kemdy-import)")
    index: Optional[str] = option(None, help="index mode: a KEMDy index folder (kemdy-index); runs stage 1 -> 2 -> 3")
    feature_cache: Optional[str] = option(None, help="index mode: acoustic frame-feature cache shared by every run; "
                                          "default <run_dir>/acoustic_cache")


@dataclass
class Stage1Ref:
    file: str = option("configs/stage1/demo.yaml", help="index mode: the stage-1 YAML config")
    overrides: List[str] = option(factory=list, help="key=value overrides of the stage-1 config")


@dataclass
class LogregConfig:
    modality: Optional[str] = option(None, help="features of the logreg baseline; null = the first config's data.modality")
    c_grid: List[float] = option(factory=lambda: [0.001, 0.01, 0.1, 1.0, 10.0], help="inverse regularisation strengths tried on dev")


@dataclass
class RunnerConfig:
    config_folder: ClassVar[str] = "experiments"  # `--config demo_seeds` = configs/experiments/demo_seeds.yaml
    run_dir: str = option("runs/experiments/run", help="output folder: one folder per run, runs.csv, summary.csv/.md, "
                          "paired.csv, seeds.png")
    seeds: List[int] = option(factory=lambda: [0, 1, 2, 3, 4], help="seeds; every config runs every (seed, fold)")
    folds: int = option(0, help="K >= 3: k-fold by contiguous session blocks (test = block I, dev = block I+1 mod K, "
                        "train = the rest); 0 = the split the data carries")
    data: RunnerData = option(factory=RunnerData, help="")
    configs: Dict[str, StageConfigRef] = option(factory=dict, help="stage-3 configs by name: {name: {file, overrides}}")
    stage3_overrides: List[str] = option(factory=list, help="key=value overrides applied to every stage-3 config "
                                         "after its own (e.g. trainer.cpu_threads=1)")
    stage1: Stage1Ref = option(factory=Stage1Ref, help="")
    baselines: List[str] = option(factory=lambda: ["logreg"], help="stage1 (index mode: the stage-1 classifier's "
                                  "own test metrics) and/or logreg (context-free logistic regression)")
    logreg: LogregConfig = option(factory=LogregConfig, help="")


def check_runner_config(config: RunnerConfig) -> None:
    """Mistakes the schema cannot see, each named by its key."""
    if bool(config.data.pickle) == bool(config.data.index):
        raise UserError("data: give exactly one of data.pickle (pickle mode) or data.index (index mode)")
    if not config.configs:
        raise UserError("configs: name at least one stage-3 config, e.g. configs.default.file=configs/stage3/default.yaml")
    for name in config.configs:
        if not NAME_PATTERN.match(name) or name in RESERVED_NAMES:
            raise UserError(f"configs.{name}: a config name is a folder name of letters, digits, '_', '.', '-' "
                            f"and none of {', '.join(RESERVED_NAMES)}")
    unknown = [name for name in config.baselines if name not in BASELINES]
    if unknown:
        raise UserError(f"baselines: unknown baseline(s) {unknown}; choose from {', '.join(BASELINES)}")
    if "stage1" in config.baselines and not config.data.index:
        raise UserError("baselines: stage1 needs index mode (data.index): the stage-1 classifier is trained there")
    if not config.seeds or len(set(config.seeds)) != len(config.seeds):
        raise UserError(f"seeds={config.seeds}: expected a non-empty list of distinct integers")
    if config.folds and config.folds < 3:
        raise UserError(f"folds={config.folds}: expected 0 (the data's own split) or K >= 3")
    if not config.logreg.c_grid or min(config.logreg.c_grid) <= 0:
        raise UserError(f"logreg.c_grid={config.logreg.c_grid}: expected positive numbers")
