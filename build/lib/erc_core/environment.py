"""Settings that must be in place before comet_ml, transformers or Lightning are imported.

Every command calls `offline_by_default()` as its first statement, above its other imports:
comet_ml reads its settings when it is imported (and starts error reporting then), so setting
them later, when a tracker is created, is too late. Values the user set are kept."""

import os

# Comet with no API key: an offline archive and no network attempt (no error tracking, no
# environment details, no auto-logging). With COMET_API_KEY the user asked for the online service.
COMET_OFFLINE = {
    "COMET_START_ONLINE": "false",
    "COMET_AUTO_LOG_ENV_DETAILS": "false",
    "COMET_ERROR_TRACKING_ENABLE": "false",
    "COMET_DISABLE_AUTO_LOGGING": "1",
}
QUIET = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",   # no fork warning from DataLoader workers
    "COMET_LOGGING_CONSOLE": "ERROR",     # comet's INFO lines; `--verbose` lets them through
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bars
}


def offline_by_default() -> None:
    if not os.environ.get("COMET_API_KEY"):
        for key, value in COMET_OFFLINE.items():
            os.environ.setdefault(key, value)
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
