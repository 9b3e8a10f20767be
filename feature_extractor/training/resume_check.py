"""Is a stage-1 `last.ckpt` one this run can resume from? Checked before `trainer.fit(ckpt_path=...)`,
so a truncated, foreign or crafted file ends as one line naming it instead of Lightning's traceback
or torch's multi-line `weights_only` message.

The file is opened the way resume opens it (`torch.load(weights_only=True)`, so nothing in it can
run code), memory-mapped, so even a large checkpoint costs no second copy in memory."""

import pickle
import zipfile
from pathlib import Path

import torch

from erc_core.errors import UserError

LIGHTNING_KEYS = ("state_dict", "optimizer_states", "epoch", "global_step")
START_AGAIN = "delete it (or pass overwrite=true instead of resume=true) to start again"


def check_resume_checkpoint(path, module: torch.nn.Module | None = None) -> None:
    """Raise UserError naming `path` unless it is a readable Lightning checkpoint holding only
    weights and plain data; with `module`, its weights must also fit the module's shapes."""
    path = Path(path)
    checkpoint = _load_weights_only(path)
    missing = [key for key in LIGHTNING_KEYS if key not in checkpoint] if isinstance(checkpoint, dict) else LIGHTNING_KEYS
    if missing:
        raise UserError(f"{path}: not a stage-1 training checkpoint (no {missing[0]!r}); {START_AGAIN}")
    if module is not None:
        _check_shapes(path, checkpoint["state_dict"], module.state_dict())


def _load_weights_only(path: Path):
    if not zipfile.is_zipfile(path):  # also: a cut-off file, whose central directory is gone
        raise UserError(f"{path}: truncated or not a torch checkpoint; {START_AGAIN}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError:
        raise UserError(f"{path}: holds objects other than weights and plain data, refused (loading them "
                        f"could run code); {START_AGAIN}") from None
    except (RuntimeError, EOFError, ValueError) as error:
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: unreadable checkpoint ({reason}); {START_AGAIN}") from None


def _check_shapes(path: Path, saved: dict, expected: dict) -> None:
    """Same parameter names and shapes, or the run's model settings have changed since the checkpoint."""
    differing = sorted(set(expected) ^ set(saved))
    if differing:
        raise UserError(f"{path}: its weights do not match this run's model ({differing[0]} is only in "
                        f"{'this run' if differing[0] in expected else 'the checkpoint'}); it was written with "
                        "other model.* settings")
    for name, tensor in expected.items():
        shape = tuple(getattr(saved[name], "shape", ()))
        if shape != tuple(tensor.shape):
            raise UserError(f"{path}: {name} has shape {shape}, this run's model {tuple(tensor.shape)}; "
                            "it was written with other model.* settings")
