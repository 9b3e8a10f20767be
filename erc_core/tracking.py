"""Experiment tracking with comet-ml, optional.

`tracking: auto` (default): comet if `comet_ml` is installed, else none. With comet, the run is
online only when COMET_API_KEY is set; otherwise an OfflineExperiment archive is written into the
run folder with every automatic logger off, so no network connection is attempted.
`tracking: none` turns it off; `tracking: comet` fails if comet_ml is missing."""

import importlib.util
import os
import warnings
from pathlib import Path

TRACKING_CHOICES = ("auto", "comet", "none")

# Comet settings for a run with no API key: an offline archive and no network attempt (no
# environment details, no error tracking, no auto-logging). Stage 1 (Lightning) uses these too.
OFFLINE_ENV = {
    "COMET_START_ONLINE": "false",
    "COMET_AUTO_LOG_ENV_DETAILS": "false",
    "COMET_ERROR_TRACKING_ENABLE": "false",
    "COMET_DISABLE_AUTO_LOGGING": "1",
}
# Everything comet would collect on its own; each of these may touch the network or the host.
QUIET_EXPERIMENT = dict(log_code=False, log_graph=False, auto_param_logging=False, auto_metric_logging=False,
                        parse_args=False, auto_output_logging=False, log_env_details=False,
                        log_git_metadata=False, log_git_patch=False, log_env_gpu=False, log_env_host=False,
                        log_env_cpu=False, log_env_network=False, log_env_disk=False, display_summary_level=0)


class NullTracker:
    mode = "none"

    def log_parameters(self, params: dict) -> None:
        pass

    def log_metrics(self, metrics: dict, step: int) -> None:
        pass

    def log_asset(self, path) -> None:
        pass

    def end(self) -> None:
        pass


class CometTracker:
    def __init__(self, experiment, mode):
        self.experiment = experiment
        self.mode = mode

    def log_parameters(self, params):
        self.experiment.log_parameters(_flatten(params))

    def log_metrics(self, metrics, step):
        self.experiment.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                                    step=step)

    def log_asset(self, path):
        self.experiment.log_asset(str(path))

    def end(self):
        self.experiment.end()


def start_tracker(choice: str, run_dir, project: str, name: str = ""):
    if choice not in TRACKING_CHOICES:
        raise ValueError(f"tracking {choice!r}: expected one of {', '.join(TRACKING_CHOICES)}")
    if choice == "none":
        return NullTracker()
    if importlib.util.find_spec("comet_ml") is None:
        if choice == "comet":
            raise ImportError("tracking: comet asks for comet_ml, which is not installed "
                              "(pip install comet-ml, or set tracking=none)")
        return NullTracker()
    import comet_ml

    if os.environ.get("COMET_API_KEY"):
        experiment = comet_ml.Experiment(project_name=project, **QUIET_EXPERIMENT)
        mode = "online"
    else:
        os.environ.update(OFFLINE_ENV)
        offline_dir = Path(run_dir) / "comet"
        offline_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            experiment = comet_ml.OfflineExperiment(project_name=project, offline_directory=str(offline_dir),
                                                    **QUIET_EXPERIMENT)
        mode = "offline"
    if name:
        experiment.set_name(name)
    return CometTracker(experiment, mode)


def _flatten(params, prefix=""):
    flat = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
