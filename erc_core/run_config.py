"""The config sections both training stages share, so both speak one vocabulary:

    run_dir, seed, resume, overwrite          top level (`RunConfig`)
    trainer.max_epochs / accelerator / devices / early_stopping_patience / gradient_clip_val /
        progress_bar / progress_every_s / print_every_n_epochs / deterministic / cpu_threads
    tracking.comet / project / workspace / experiment_name      (erc_core.tracking)

Each stage subclasses these with its own defaults and adds its own keys (data.*, model.*,
optim.*, loss.*); `configs/stage1/` and `configs/stage3/` hold the YAML files."""

from dataclasses import dataclass
from typing import Any, Optional

from erc_core.checks import above, at_least, between, one_of
from erc_core.config import option

ACCELERATORS = ("auto", "cpu", "cuda", "gpu", "mps")


@dataclass
class TrainerConfig:
    max_epochs: int = option(15, help="training epochs", check=at_least(1))
    accelerator: str = option("auto", help="auto | cpu | cuda | gpu | mps", check=one_of(*ACCELERATORS))
    devices: Any = option("auto", help="auto, a device count, or a list of device indices ([1])")
    early_stopping_patience: int = option(5, help="epochs without a better dev weighted-F1 before stopping; 0 = off",
                                          check=at_least(0))
    gradient_clip_val: Optional[float] = option(1.0, help="clip the gradient norm to this; null or 0 = no clipping",
                                                check=at_least(0))
    progress_bar: Optional[bool] = option(None, help="null = bars on a terminal, a line every progress_every_s "
                                          "seconds in a log file; true = bars; false = neither")
    progress_every_s: float = option(30.0, help="seconds between progress lines when stderr is not a terminal",
                                     check=above(0))
    print_every_n_epochs: int = option(1, help="print the one-line epoch summary every N epochs (and the last)",
                                       check=at_least(1))
    deterministic: bool = option(False, help="torch deterministic algorithms (slower)")
    cpu_threads: Optional[int] = option(None, help="torch intra-op CPU threads; null = torch's choice",
                                        check=at_least(1))


@dataclass
class RunConfig:
    run_dir: str = option("runs/run", help="output folder of the run")
    seed: int = option(0, help="random seed", check=between(0, 2**32 - 1))
    resume: bool = option(False, help="continue the run in run_dir from its last saved state")
    overwrite: bool = option(False, help="replace the run already in run_dir (only the files a run writes are removed)")
