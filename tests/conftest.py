"""Test setup shared by every test: no model hub, no tracking network, quiet thread use."""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("COMET_AUTO_LOG_ENV_DETAILS", "false")
os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
os.environ.pop("COMET_API_KEY", None)
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Stage 3's context-free baseline cache (cgnn/baseline_report.py): the tests' own, not the user's.
os.environ["KEMDY_ERC_CACHE"] = tempfile.mkdtemp(prefix="kemdy_erc_test_cache_")
