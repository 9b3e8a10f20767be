"""Where a number came from: recorded in every config.json / metrics.json any stage writes.

    {"packages": {"torch": "2.13.0+cpu", ...}, "git": {"commit": "...", "dirty": false},
     "python": "3.11.7", "platform": "...", "device": "cpu", "torch_threads": 2, "seed": 0}

Package versions come from the installed distributions' metadata (nothing is imported for it).
The git commit is that of the checkout the code runs from; an installed copy outside a checkout
records its package version instead."""

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path

import torch

PACKAGES = ("torch", "transformers", "torch-geometric", "lightning", "numpy", "scikit-learn", "pandas",
            "tokenizers", "safetensors", "omegaconf", "comet-ml", "kemdy-erc")
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def run_provenance(seed=None, device=None) -> dict:
    record = {"packages": package_versions(), "git": git_state(), "python": platform.python_version(),
              "platform": platform.platform(), "torch_threads": torch.get_num_threads()}
    if device is not None:
        record["device"] = describe_device(device)
    if seed is not None:
        record["seed"] = int(seed)
    return record


@functools.cache
def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.cache
def git_state() -> dict:
    """{'commit', 'dirty'} of the checkout holding this code, or {'commit': None} outside one."""
    def git(*args):
        return subprocess.run(["git", "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def describe_device(device) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)
