"""Checkpoint weights for both stages: a safetensors file described by a JSON file that records
its SHA-256 (never a pickled module). Loading checks the pair belongs together and that every
tensor fits the model rebuilt from the JSON, and says what differs in one line."""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from erc_core.errors import UserError
from erc_core.files import atomic_path, file_sha256


def save_weights(path, module: torch.nn.Module, metadata: dict | None = None) -> str:
    """Write the module's state dict atomically; returns the file's SHA-256."""
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in module.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)
        return file_sha256(tmp)


def read_json(path, what: str) -> dict:
    """A JSON description file, or one line naming the file when it is missing or cut off."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no {what} here ({path.name} missing)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid JSON ({error}); the file is damaged or was cut off — "
                        "re-create it by re-running the stage that wrote it") from None


def load_weights(module: torch.nn.Module, path, expected_sha256: str, description_file) -> None:
    """Load `path` into `module` strictly, after checking its checksum against the description."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: weights file missing (expected next to {Path(description_file).name})")
    if file_sha256(path) != expected_sha256:
        raise UserError(f"{path}: SHA-256 differs from the one in {description_file}; the two files are not "
                        "from the same save (an interrupted save, or files mixed from two runs)")
    try:
        state = load_file(str(path), device="cpu")
    except Exception as error:  # safetensors raises its own error types for a damaged header
        raise UserError(f"{path}: not a readable safetensors file ({error})") from None
    load_state_strict(module, state, source=str(path))


def load_state_strict(module: torch.nn.Module, state: dict, source: str) -> None:
    """`module.load_state_dict(state, strict=True)`, with one readable line instead of torch's
    multi-line `size mismatch` report."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = [f"{name}: file {tuple(state[name].shape)}, model {tuple(expected[name].shape)}"
                   for name in sorted(set(state) & set(expected)) if state[name].shape != expected[name].shape]
    problems = []
    if missing:
        problems.append(f"missing from the file: {_first(missing)}")
    if unexpected:
        problems.append(f"not in the model: {_first(unexpected)}")
    if wrong_shape:
        problems.append(f"shape mismatch: {_first(wrong_shape)}")
    if problems:
        raise UserError(f"{source}: weights do not fit the model built from its config ({'; '.join(problems)}); "
                        "was the config edited, or the weights copied from another run?")
    module.load_state_dict(state, strict=True)


def _first(items, limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
