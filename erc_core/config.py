"""Typed configs for both training stages: a dataclass is the schema, a YAML file sets values,
`key=value` overrides win.

    cfg = load_config(Stage3Config, "configs/stage3/demo.yaml", ["trainer.max_epochs=3"])

Validation and merging are OmegaConf's structured configs: every value is checked against its
field's type (`model.positional=flase` and `trainer.max_epochs=2.5` are errors, `1e-3` is a float,
`Literal[...]` fields take only their choices). What we add: errors that blame the right place
(the YAML file or the command-line override), "did you mean" for unknown keys, and the key listing
that `--help` prints (`describe_keys`), the named configs shipped with the package
(`erc_core.shipped_configs`) and range checks declared next to each option
(`option(..., check=above(0))`, `erc_core.checks`), run when a config is loaded and blaming the
file or override that set the value."""

import dataclasses
import difflib
import typing
from pathlib import Path

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from erc_core.errors import UserError
from erc_core.shipped_configs import resolve_config


class ConfigError(UserError):
    """A config file or override that does not fit the schema."""


def option(default=dataclasses.MISSING, *, help: str, factory=None, check=None):
    """A dataclass field with its `--help` text; `factory` for mutable defaults; `check` a value
    constraint from `erc_core.checks` (e.g. `above(0)`)."""
    metadata = {"help": help, "check": check}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def load_config(schema, yaml_path=None, overrides=()):
    """The schema's defaults, then the YAML file (a path or a named config of the schema's
    `config_folder`), then each override; types are checked at every step, value ranges at the end."""
    merged = OmegaConf.structured(schema)
    setters = []  # (source, dotted keys it set), to blame a value that is out of range
    if yaml_path is not None:
        path = resolve_config(yaml_path, getattr(schema, "config_folder", None))
        values = _read_yaml(path)
        merged = _merge(merged, values, source=str(path))
        setters.append((str(path), _dotted_keys(values)))
    for item in overrides:
        values = _parse_override(item)
        merged = _merge(merged, values, source=f"command line {item!r}")
        setters.append((f"command line {item!r}", _dotted_keys(values)))
    config = OmegaConf.to_object(merged)
    _check_values(config, setters)
    return config


def from_dict(schema, values: dict, source: str = "config"):
    """Validate a plain dict (e.g. a config stored in a checkpoint) against the schema."""
    return OmegaConf.to_object(_merge(OmegaConf.structured(schema), values, source))


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def to_yaml(config) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False, allow_unicode=True)


def save_config(config, path) -> None:
    from erc_core.files import atomic_open

    with atomic_open(Path(path), "w", encoding="utf-8") as handle:
        handle.write(to_yaml(config))


def describe_keys(schema) -> list:
    """(dotted key, type, default, help) for every leaf field, in declaration order; the help text
    ends with the allowed range when the option declares one."""
    rows = []
    hints = typing.get_type_hints(schema)
    for field in dataclasses.fields(schema):
        hint = hints[field.name]
        if dataclasses.is_dataclass(hint):
            rows.extend((f"{field.name}.{key}", kind, default, text)
                        for key, kind, default, text in describe_keys(hint))
            continue
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        rows.append((field.name, _type_name(hint), default, _help_text(field, hint)))
    return rows


def keys_help(schema) -> str:
    """The key table `--help` prints."""
    rows = describe_keys(schema)
    width = max(len(key) for key, *_ in rows)
    kind_width = max(len(kind) for _, kind, *_ in rows)
    lines = ["config keys (set in the YAML file or as key=value):"]
    for key, kind, default, text in rows:
        shown = yaml.safe_dump(default, default_flow_style=True).strip().removesuffix("...").strip()
        lines.append(f"  {key:<{width}}  {kind:<{kind_width}}  default {shown}" + (f"  {text}" if text else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------- internals


def _help_text(field, hint) -> str:
    text, check = field.metadata.get("help", ""), field.metadata.get("check")
    if check is None:
        return text
    allowed = f"allowed: {check.describe(integer=int in (hint, *typing.get_args(hint)))}"
    return f"{text} ({allowed})" if text else allowed


def _check_values(config, setters, prefix="") -> None:
    """Every declared range, on the final values; the message blames the last source that set the key."""
    for field in dataclasses.fields(config):
        key, value = prefix + field.name, getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            _check_values(value, setters, f"{key}.")
            continue
        check = field.metadata.get("check")
        problem = check.problem(value) if check is not None and value is not None else None
        if problem:
            source = next((name for name, keys in reversed(setters) if key in keys), "the schema's default")
            raise ConfigError(f"{source}: {key}: {problem}, got {value!r}")


def _dotted_keys(values: dict, prefix="") -> set:
    keys = set()
    for name, value in values.items():
        keys.add(f"{prefix}{name}")
        if isinstance(value, dict):
            keys |= _dotted_keys(value, f"{prefix}{name}.")
    return keys


def _read_yaml(path):
    try:
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys at the top level, got {type(values).__name__}")
    return values


def _parse_override(item: str) -> dict:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"command line {item!r}: expected key=value (e.g. trainer.max_epochs=3)")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    values = node = {}
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return values


def _merge(base, values, source: str):
    try:
        return OmegaConf.merge(base, values)
    except ConfigKeyError as error:
        raise ConfigError(f"{source}: {_unknown_key_message(base, error)}") from None
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None)
        message = str(getattr(error, "msg", None) or error).splitlines()[0]
        raise ConfigError(f"{source}: {key + ': ' if key else ''}{message}") from None


def _unknown_key_message(base, error) -> str:
    full_key = str(getattr(error, "full_key", "") or "")
    parent, _, name = full_key.rpartition(".")
    node = OmegaConf.select(base, parent) if parent else base
    known = [str(k) for k in node.keys()] if node is not None and hasattr(node, "keys") else []
    close = difflib.get_close_matches(name, known, n=1)
    prefix = f"{parent}." if parent else ""
    if close:
        hint = f"; did you mean {prefix}{close[0]}?"
    else:
        hint = f"; known keys here: {', '.join(known)}" if known else ""
    return f"unknown key {full_key or name}{hint}"


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return "|".join(str(choice) for choice in typing.get_args(hint))
    if origin is typing.Union:
        names = [_type_name(arg) for arg in typing.get_args(hint) if arg is not type(None)]
        return "|".join(names) + " or null"
    if hint is typing.Any:
        return "any"
    return getattr(hint, "__name__", str(hint))
