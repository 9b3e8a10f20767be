"""Typed configs: a dataclass is the schema, a YAML file sets values, `key=value` overrides win.

    cfg = load_config(TrainConfig, "configs/stage3/demo.yaml", ["epochs=3", "model.hidden=64"])

Nested dataclasses are addressed with dots. Values in overrides are parsed as YAML scalars
(`3` -> int, `true` -> bool, `[a, t]` -> list). Unknown keys are an error naming the key."""

import dataclasses
import typing
from pathlib import Path

import yaml


def load_config(schema, yaml_path=None, overrides=()):
    values = {}
    if yaml_path is not None:
        with open(yaml_path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{yaml_path}: expected a mapping of config keys at the top level")
        values = loaded
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r}: expected key=value")
        _set_dotted(values, key.strip(), yaml.safe_load(raw))
    return from_dict(schema, values, source=str(yaml_path or "overrides"))


def from_dict(schema, values: dict, source: str = "config", prefix: str = ""):
    hints = typing.get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        names = ", ".join(prefix + key for key in unknown)
        raise ValueError(f"{source}: unknown config key(s) {names}; known: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = from_dict(hint, value, source, prefix=f"{prefix}{name}.")
        else:
            value = _coerce_number(value, hint, f"{source}: {prefix}{name}")
        kwargs[name] = value
    return schema(**kwargs)


def _coerce_number(value, hint, where: str):
    """YAML 1.1 reads `1e-3` (no dot) as a string and `1` as an int: give float fields floats."""
    wanted = [t for t in typing.get_args(hint) or (hint,) if t in (float, int)]
    if not wanted or value is None or isinstance(value, bool):
        return value
    if float in wanted and isinstance(value, (int, str)):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{where}: expected a number, got {value!r}") from None
    if wanted == [int] and isinstance(value, str):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    return value


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def save_config(config, path) -> None:
    from erc_core.files import atomic_open

    with atomic_open(Path(path), "w", encoding="utf-8") as handle:
        yaml.safe_dump(to_dict(config), handle, sort_keys=False, allow_unicode=True)


def _set_dotted(values: dict, key: str, value) -> None:
    parts = key.split(".")
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {key!r}: {part!r} is not a section")
    node[parts[-1]] = value
