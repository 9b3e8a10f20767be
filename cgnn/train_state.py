"""The resume file of a stage-3 run, `<run_dir>/train_state.pt`: weights, optimizer, scheduler, RNG
states and progress (tensors and plain values only, read with `torch.load(weights_only=True)`),
plus the run's identity: the data (by SHA-256), the features, classes and model it was started
with. A resume with other data or another model is refused, naming the file and what differs,
instead of continuing the old run on the new inputs."""

import dataclasses

import torch

from erc_core.errors import UserError
from erc_core.files import atomic_path

STATE_FILE = "train_state.pt"
STATE_KEYS = ("model", "optimizer", "scheduler", "numpy_rng", "torch_rng", "progress")
START_OVER = "resume with the settings the run was started with, or start anew (overwrite=true or another run_dir)"


def save_train_state(path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_train_state(path) -> dict:
    """The saved state, or one line naming the file when it is cut off, crafted or not a stage-3 state."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch reports a bad file as RuntimeError, UnpicklingError, EOFError...
        raise UserError(f"{path}: not a readable stage-3 training state ({error_line(error)}); the file is damaged, "
                        f"cut off or not written by kemdy-stage3-train; {START_OVER}") from None
    missing = [key for key in STATE_KEYS if key not in state] if isinstance(state, dict) else list(STATE_KEYS)
    if missing:
        raise UserError(f"{path}: not a stage-3 training state (no {', '.join(missing)}); {START_OVER}")
    return state


def run_identity(config, data_sha256: str, feature_dims: dict, label_names, num_speakers: int) -> dict:
    """What a resumed run must share with the run it continues."""
    return {"data sha256": data_sha256, "data.path": str(config.data.path), "data.modality": config.data.modality,
            "feature widths": dict(feature_dims), "label_names": list(label_names), "num_speakers": int(num_speakers),
            **{f"model.{key}": value for key, value in dataclasses.asdict(config.model).items()}}


def check_same_run(path, saved: dict | None, current: dict) -> None:
    """Refuse a resume whose data or model differ from the saved run's (states written before the
    identity was recorded are not checked here; their weights still must fit the model)."""
    if saved is None:
        return
    if saved.get("data sha256") != current["data sha256"]:
        raise UserError(f"{path}: resume=true with data.path={current['data.path']} (sha256 "
                        f"{current['data sha256'][:12]}), but the run was started on {saved.get('data.path')} "
                        f"(sha256 {str(saved.get('data sha256'))[:12]}); {START_OVER}")
    for key, value in current.items():
        if key != "data.path" and key in saved and saved[key] != value:
            raise UserError(f"{path}: resume=true with {key}={value!r}, but the run was started with "
                            f"{key}={saved[key]!r}; {START_OVER}")


def error_line(error: BaseException) -> str:
    """One line of torch's (often multi-line) load error; never torch's advice to load unsafely."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
    unsupported = next((line for line in lines if "unsupported" in line.lower()), None)
    if unsupported:
        return _first_sentence(unsupported)
    if lines[0].startswith("Weights only load failed"):
        return "it holds objects other than tensors and plain values"
    return _first_sentence(lines[0])


def _first_sentence(line: str) -> str:
    return line.split(". ")[0].rstrip(".")[:200]
