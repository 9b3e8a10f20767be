"""Where an encoder name (`model.text.name`, `model.audio.name`) points, checked before any
`from_pretrained` call, so a mistyped folder fails at once in one line instead of after a series
of hub requests.

The rule, in order:
1. an existing folder is a local model folder (from_pretrained reads it);
2. a name that cannot be a hub id is a path: it starts with `.`, `/` or `~`, has more than one `/`,
   holds a `\\` or another character the hub does not allow (huggingface_hub.validate_repo_id);
   so is `a/b` when `a` is an existing local folder (a sub-folder of it was meant). Such a name
   that does not exist fails with "no such folder";
3. anything else is a hub id `owner/name`. Offline (HF_HUB_OFFLINE=1) it must be in the local
   Hugging Face cache; online its config.json is fetched once here, and a hub that does not know
   the id or cannot be reached fails in one line before transformers tries file after file.
"""

from pathlib import Path

from huggingface_hub import hf_hub_download, is_offline_mode, try_to_load_from_cache
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from erc_core.errors import UserError


def check_model_source(key: str, name: str) -> None:
    """Raise UserError naming `key` unless `name` is a local folder or a hub id that can be fetched."""
    if not str(name).strip():
        raise UserError(f"{key} is empty; expected a model folder or a hub id")
    folder = _expand(name)
    if folder.is_dir():
        return
    if folder.exists():
        raise UserError(f"{key}: {name!r} is a file; expected a model folder or a hub id")
    if looks_like_path(name):
        raise UserError(f"{key}: no such folder {name!r} (looked in {folder.absolute().parent})")
    _check_hub_id(key, name)


def _expand(name: str) -> Path:
    try:
        return Path(name).expanduser()
    except RuntimeError:  # `~user/...` for a user this machine does not know
        return Path(name)


def looks_like_path(name: str) -> bool:
    """True when `name` cannot be a hub id, or starts with an existing local folder (rule 2)."""
    try:
        validate_repo_id(name)
    except HFValidationError:
        return True
    return "/" in name and Path(name.split("/")[0]).is_dir()


def _check_hub_id(key: str, name: str) -> None:
    if is_offline_mode():
        if not isinstance(try_to_load_from_cache(name, "config.json"), str):
            raise UserError(f"{key}: no local folder {name!r}, and with HF_HUB_OFFLINE=1 the hub id {name!r} "
                            "must be in the local Hugging Face cache, which lacks it")
        return
    try:
        hf_hub_download(name, "config.json")
    except OSError as error:  # unknown or gated id, no network (huggingface_hub's errors are OSErrors)
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise UserError(f"{key}: no local folder {name!r}, and the hub cannot provide it ({reason})") from None
