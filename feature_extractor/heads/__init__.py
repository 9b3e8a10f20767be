"""Stage-1 fusion heads, selectable by name (`model.head`). Every head follows heads/base.py."""

import difflib

from erc_core.errors import UserError
from feature_extractor.heads.base import EncodedBatch, HeadOutput, masked_mean

HEADS = {}


def register_head(name):
    def decorate(cls):
        HEADS[name] = cls
        return cls

    return decorate


def head_class(name):
    """The head class registered as `name`; an unknown name is the user's `model.head` setting."""
    import_all_heads()
    if name not in HEADS:
        close = difflib.get_close_matches(str(name), sorted(HEADS), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UserError(f"model.head={name!r}: unknown head; {hint}available: {', '.join(sorted(HEADS))}")
    return HEADS[name]


def build_head(name, **kwargs):
    """The head `name` built with `kwargs` (the extractor's dimensions + model.head_options)."""
    from feature_extractor.heads.options import SUPPLIED, validate_head_options

    validate_head_options(name, {key: value for key, value in kwargs.items() if key not in SUPPLIED})
    return head_class(name)(**kwargs)


def import_all_heads():
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("base", "options"):
            importlib.import_module(f"{__name__}.{module.name}")


__all__ = ["EncodedBatch", "HeadOutput", "masked_mean", "HEADS", "register_head", "head_class", "build_head"]
