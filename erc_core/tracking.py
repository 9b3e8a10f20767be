"""Experiment tracking with comet-ml, for both stages (`tracking.*` config keys).

Online only when COMET_API_KEY is set. Otherwise an offline archive (a .zip that `comet upload`
sends later) is written to <run_dir>/comet with every automatic logger off, and no network
connection is attempted (the settings in `erc_core.environment`, applied before comet_ml is
imported). Stage 3 logs through `start_tracker`; stage 1 through Lightning's CometLogger
(`lightning_logger`). Without comet_ml installed, tracking is off and the run says so once.

comet creates its archive (empty) when the experiment starts and fills it when it ends, so a
killed run would leave an empty zip that looks finished. It therefore writes into the hidden
<run_dir>/comet/.in_progress, and `announce` (called after the experiment ended) moves the
finished archive to <run_dir>/comet/ (an empty or cut-off archive a killed run left is dropped then)."""

import importlib.util
import os
import shutil
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from erc_core.config import option
from erc_core.environment import offline_by_default

# Everything comet would collect on its own; each of these may touch the network or the host.
QUIET_EXPERIMENT = dict(log_code=False, log_graph=False, auto_param_logging=False, auto_metric_logging=False,
                        parse_args=False, auto_output_logging=False, log_env_details=False,
                        log_git_metadata=False, log_git_patch=False, log_env_gpu=False, log_env_host=False,
                        log_env_cpu=False, log_env_network=False, log_env_disk=False, display_summary_level=0)


@dataclass
class TrackingConfig:
    comet: bool = option(True, help="comet-ml tracking: online with COMET_API_KEY, else an offline archive in <run_dir>/comet")
    project: str = option("kemdy-erc", help="comet project name")
    workspace: Optional[str] = option(None, help="comet workspace (online only)")
    experiment_name: Optional[str] = option(None, help="experiment name; default: the run folder's name")


def is_online() -> bool:
    return bool(os.environ.get("COMET_API_KEY"))


def comet_available(cfg: TrackingConfig) -> bool:
    if not cfg.comet:
        return False
    if importlib.util.find_spec("comet_ml") is None:
        print("tracking: comet_ml is not installed; this run is not tracked (tracking.comet=false hides this)",
              file=sys.stderr)
        return False
    return True


IN_PROGRESS = ".in_progress"


def offline_folder(run_dir) -> Path:
    """Where comet writes the archive while the run lasts."""
    folder = Path(run_dir) / "comet" / IN_PROGRESS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def publish_archives(run_dir) -> None:
    """Move the finished archives from comet/.in_progress to comet/; drop empty or cut-off ones."""
    folder = Path(run_dir) / "comet" / IN_PROGRESS
    for archive in sorted(folder.glob("*.zip")):
        if _holds_entries(archive):
            os.replace(archive, folder.parent / archive.name)
        else:
            archive.unlink()
    shutil.rmtree(folder, ignore_errors=True)


def _holds_entries(archive: Path) -> bool:
    try:
        with zipfile.ZipFile(archive) as opened:
            return bool(opened.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


class NullTracker:
    def log_parameters(self, params: dict) -> None:
        pass

    def log_metrics(self, metrics: dict, step: int) -> None:
        pass

    def log_asset(self, path) -> None:
        pass

    def end(self) -> None:
        pass


class CometTracker:
    def __init__(self, experiment, run_dir):
        self.experiment = experiment
        self.run_dir = run_dir

    def log_parameters(self, params):
        self.experiment.log_parameters(_flatten(params))

    def log_metrics(self, metrics, step):
        self.experiment.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, step=step)

    def log_asset(self, path):
        self.experiment.log_asset(str(path))

    def end(self):
        self.experiment.end()
        announce(self.run_dir)


def start_tracker(cfg: TrackingConfig, run_dir):
    """A tracker for a plain training loop (stage 3): CometTracker or NullTracker."""
    if not comet_available(cfg):
        return NullTracker()
    offline_by_default()
    import comet_ml

    options = dict(project_name=cfg.project, workspace=cfg.workspace, **QUIET_EXPERIMENT)
    if is_online():
        experiment = comet_ml.Experiment(**options)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            experiment = comet_ml.OfflineExperiment(offline_directory=str(offline_folder(run_dir)), **options)
    experiment.set_name(cfg.experiment_name or Path(run_dir).name)
    return CometTracker(experiment, run_dir)


def lightning_logger(cfg: TrackingConfig, run_dir):
    """Lightning's CometLogger for stage 1, or None when tracking is off.

    Lightning turns `online=False` into a disabled experiment that saves nothing, so offline mode
    comes from comet's own setting (COMET_START_ONLINE=false) and `online` is left unset."""
    if not comet_available(cfg):
        return None
    offline_by_default()
    from lightning.pytorch.loggers import CometLogger

    options = dict(project=cfg.project, workspace=cfg.workspace, name=cfg.experiment_name or Path(run_dir).name)
    if is_online():
        return CometLogger(api_key=os.environ["COMET_API_KEY"], online=True, log_env_details=True, **options)
    return CometLogger(offline_directory=str(offline_folder(run_dir)), **QUIET_EXPERIMENT, **options)


def announce(run_dir) -> None:
    """After the experiment ended: put the offline archive in place and say once where tracking went."""
    publish_archives(run_dir)
    if is_online():
        print("tracking: logged to comet.com (COMET_API_KEY is set)", file=sys.stderr)
        return
    archives = sorted(Path(run_dir, "comet").glob("*.zip"), key=lambda p: p.stat().st_mtime)
    if archives:
        print(f"tracking: comet offline archive {archives[-1]} (upload later with `comet upload`)", file=sys.stderr)


def _flatten(params, prefix=""):
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
