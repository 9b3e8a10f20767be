"""The one place that turns a device request into a torch device, for every stage and command.

    choose_device("auto")                 -> cuda (this process's GPU), else mps, else cpu
    choose_device("cuda", rank=3)        -> cuda:3, and made the current CUDA device

A distributed process must own its GPU before the first collective: NCCL's object collectives
(`gather_object`, `all_gather_object`) place their buffers on `torch.cuda.current_device()`, which
is cuda:0 on every rank unless `torch.cuda.set_device` was called. So whenever a CUDA device is
chosen it also becomes the current one."""

import os

import torch

from erc_core.errors import UserError
from erc_core.run_config import ACCELERATORS


def local_rank() -> int:
    """This process's rank on its node (torchrun / SLURM set LOCAL_RANK / SLURM_LOCALID), else 0."""
    for name in ("LOCAL_RANK", "SLURM_LOCALID"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 0


def choose_device(requested: str = "auto", rank: int | None = None, option: str = "--device") -> torch.device:
    """`requested`: auto | cpu | cuda | gpu | cuda:N | mps. A CUDA request without an index takes
    `rank`, by default the process's local rank (0 outside torchrun). `option` names the flag or
    config key the request came from, for the error message."""
    name = str(requested).strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
    if name == "gpu":
        name = "cuda"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"{_named(option, requested)}: expected one of {', '.join(ACCELERATORS)} or cuda:N") from None
    check_available(device.type, option, requested)
    if device.type == "cuda":
        index = device.index if device.index is not None else (rank if rank is not None else local_rank())
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
    return device


def check_available(accelerator: str, option: str = "trainer.accelerator", shown=None) -> None:
    """A request for a GPU (cuda / gpu) or mps on a machine without one is one error line."""
    name = str(accelerator).strip().lower().partition(":")[0]
    if name in ("cuda", "gpu") and not torch.cuda.is_available():
        raise UserError(f"{_named(option, shown or accelerator)}: this machine has no CUDA GPU (use cpu or auto)")
    if name == "mps" and not _mps_available():
        raise UserError(f"{_named(option, shown or accelerator)}: this machine has no Apple GPU (use cpu or auto)")


def _named(option: str, value) -> str:
    return f"{option} {value}" if option.startswith("--") else f"{option}={value}"


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def single_device(accelerator: str = "auto", devices="auto") -> torch.device:
    """One device from the shared `trainer.accelerator` / `trainer.devices` keys, for a run that
    uses a single device (stage 3): devices auto or 1 = the default one, [i] = device i."""
    if devices in ("auto", 1, "1", None):
        return choose_device(accelerator, option="trainer.accelerator")
    if isinstance(devices, (list, tuple)) and len(devices) == 1 and str(devices[0]).isdigit():
        if str(accelerator).lower() not in ("cuda", "gpu", "auto"):
            raise UserError(f"trainer.devices={list(devices)} picks a GPU index; "
                            f"trainer.accelerator={accelerator!r} has none")
        check_available("cuda", "trainer.devices", list(devices))
        return choose_device("cuda", rank=int(devices[0]))
    raise UserError(f"trainer.devices={devices!r}: this stage trains on one device; use auto, 1 or [index]")
