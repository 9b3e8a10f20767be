"""A training run owns its folder: a new run never mixes its files with an earlier one's.

A folder that holds a previous run is refused unless the user asks to resume it or to
overwrite it; overwriting removes only the files a run writes (never anything else the user
keeps there)."""

import shutil
from pathlib import Path

from erc_core.errors import UserError


def prepare_run_dir(run_dir, *, resume: bool, overwrite: bool, produced, resume_from) -> Path:
    """`produced`: names (files or folders) a run writes into `run_dir`; `resume_from`: the file a
    resumed run continues from."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise UserError("resume=true and overwrite=true contradict each other; choose one")
    if resume:
        if not (run_dir / resume_from).is_file():
            raise UserError(f"{run_dir / resume_from}: resume=true but there is no saved state to resume from")
        return run_dir
    previous = [name for name in produced if (run_dir / name).exists()]
    if previous and not overwrite:
        raise UserError(f"{run_dir} holds a previous run ({previous[0]}); pass resume=true to continue it, "
                        "overwrite=true to replace it, or choose another run_dir")
    for name in previous:
        target = run_dir / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir
