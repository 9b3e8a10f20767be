"""Experiment tracking with comet_ml through Lightning's CometLogger.

Online when COMET_API_KEY is set. Otherwise an offline archive (a .zip that `comet upload` can send
later) is written to <run_dir>/comet and no network connection is attempted: environment
details, error tracking (Sentry) and auto-logging are switched off.

Why the environment variable: Lightning's CometLogger turns `online=False` into a *disabled*
experiment that saves nothing, so offline mode is requested through comet's own setting
`comet.start.online` (COMET_START_ONLINE=false) and `online` is left unset.
"""

import os
from pathlib import Path

from erc_core.tracking import OFFLINE_ENV, QUIET_EXPERIMENT  # shared with stage 3


def is_online() -> bool:
    return bool(os.environ.get("COMET_API_KEY"))


def build_comet_logger(cfg, run_dir):
    """A CometLogger for `cfg` (TrackingConfig), or None when tracking is off."""
    if not cfg.comet:
        return None
    from lightning.pytorch.loggers import CometLogger

    options = dict(project=cfg.project, workspace=cfg.workspace, name=cfg.experiment_name)
    if is_online():
        return CometLogger(api_key=os.environ["COMET_API_KEY"], online=True, log_env_details=True, **options)
    os.environ.update(OFFLINE_ENV)
    offline_dir = Path(run_dir) / "comet"
    offline_dir.mkdir(parents=True, exist_ok=True)
    return CometLogger(offline_directory=str(offline_dir), **QUIET_EXPERIMENT, **options)
