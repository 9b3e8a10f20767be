"""Stage-1 fusion heads, selectable by name. Every head follows heads/base.py."""

from feature_extractor.heads.base import EncodedBatch, HeadOutput, masked_mean

HEADS = {}


def register_head(name):
    def decorate(cls):
        HEADS[name] = cls
        return cls

    return decorate


def build_head(name, **kwargs):
    import_all_heads()
    if name not in HEADS:
        raise ValueError(f"unknown head {name!r}; available: {', '.join(sorted(HEADS))}")
    return HEADS[name](**kwargs)


def import_all_heads():
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")


__all__ = ["EncodedBatch", "HeadOutput", "masked_mean", "HEADS", "register_head", "build_head"]
