"""The configs shipped with the toolkit, and how a `--config` value finds its file.

The checkout's `configs/` folder is installed with the package as `erc_core/configs`
(pyproject.toml), so a `pip install` user has the same files. A `--config` value is

    demo                        a named config: the shipped configs/<the command's folder>/demo.yaml
    stage3/demo                 a named config with its folder
    work/my.yaml                a file, relative to the current folder
    configs/stage3/demo.yaml    that file if it exists here, else the shipped file of that name

Paths inside a config (data.path, data.index, run_dir, ...) are relative to the current folder
like any command-line path; the shipped configs name the checkout's demo files (data/, demo_work/),
so outside the checkout set them on the command line."""

from pathlib import Path

from erc_core.errors import UserError

SUFFIXES = (".yaml", ".yml")
PREFIX = "configs/"


def shipped_root() -> Path:
    """erc_core/configs in an installed package, else the checkout's configs/ next to erc_core/."""
    package = Path(__file__).resolve().parent
    installed = package / "configs"
    return installed if installed.is_dir() else package.parent / "configs"


def named_configs(folder: str) -> list:
    return sorted(path.stem for path in (shipped_root() / folder).glob("*.yaml"))


def resolve_config(given, folder: str | None = None) -> Path:
    """The file a `--config` value stands for (see the module docstring); `folder` is the command's
    folder of named configs (stage1, stage3, experiments)."""
    path = Path(given)
    text = str(given).replace("\\", "/")
    if path.is_file():
        return path
    if text.startswith(PREFIX) and (shipped_root() / text[len(PREFIX):]).is_file():
        return shipped_root() / text[len(PREFIX):]
    if path.suffix in SUFFIXES:
        return path  # a file that is not there: the YAML reader names it
    return _named(text, folder)


def _named(name: str, folder: str | None) -> Path:
    folder, _, stem = name.rpartition("/") if "/" in name else (folder, "", name)
    if folder is None:
        folders = sorted(path.name for path in shipped_root().iterdir() if list(path.glob("*.yaml")))
        raise UserError(f"--config {name}: no such file; here a shipped config is named with its folder "
                        f"({', '.join(folders)}), e.g. {folders[-1] if folders else 'stage3'}/{name}")
    found = shipped_root() / folder / f"{stem}.yaml"
    if not found.is_file():
        known = ", ".join(named_configs(folder)) or "none"
        raise UserError(f"--config {name}: no such file, and no shipped config of that name in {folder}/ "
                        f"(named configs: {known})")
    return found
