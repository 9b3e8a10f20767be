"""Test setup shared by every test: no model hub, no tracking network, quiet thread use."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("COMET_AUTO_LOG_ENV_DETAILS", "false")
os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
os.environ.pop("COMET_API_KEY", None)
os.environ.setdefault("OMP_NUM_THREADS", "2")
