"""Checking `model.head_options` against the head's constructor, before anything is built or written.

A head's options are the keyword arguments of its `__init__` (inspect.signature), less the ones
the extractor supplies itself (`SUPPLIED`). Rules, each failing as one UserError naming the key:
- an unknown option (with a did-you-mean) or one the extractor supplies;
- a value of the wrong type for an `int` / `float` / `bool` annotation;
- an `int` option below 1 (head int options are sizes and counts);
- an option named `dropout` or `*_dropout` outside [0, 1);
- the pairs in the head's `divisible` attribute: (width, num_heads) means width must be a multiple
  of num_heads (the value given, or the constructor's default).
"""

import difflib
import inspect
import numbers

from erc_core.errors import UserError
from feature_extractor.heads import head_class

KEY = "model.head_options"
SUPPLIED = {
    "text_dim": "the text encoder",
    "audio_dim": "the audio encoder",
    "physio_dim": "model.use_physio",
    "num_classes": "the label set",
    "predict_va": "model.predict_va",
}


def validate_head_options(head_name: str, options) -> None:
    """Raise UserError (one line naming `model.head` or `model.head_options.<key>`) unless
    `options` are valid keyword options of the head registered as `head_name`."""
    parameters = head_parameters(head_name)
    options = dict(options or {})
    for key, value in options.items():
        _check_known(head_name, str(key), parameters)
        _check_value(f"{KEY}.{key}", value, parameters[key])
    for big, small in getattr(head_class(head_name), "divisible", ()):
        _check_divisible(head_name, big, small, options, parameters)


def head_parameters(head_name: str) -> dict:
    """The head's constructor parameters by name (without `self`)."""
    signature = inspect.signature(head_class(head_name).__init__)
    return {name: p for name, p in signature.parameters.items() if name != "self"}


def _check_known(head_name: str, key: str, parameters: dict) -> None:
    if key in SUPPLIED:
        raise UserError(f"{KEY}.{key}: set by {SUPPLIED[key]}, not a head option")
    if key in parameters:
        return
    allowed = [name for name in parameters if name not in SUPPLIED]
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {KEY}.{close[0]}? " if close else ""
    raise UserError(f"{KEY}.{key}: unknown option of head {head_name!r}; {hint}options: {', '.join(allowed)}")


def _check_value(key: str, value, parameter: inspect.Parameter) -> None:
    kind = parameter.annotation
    if kind is bool and not isinstance(value, bool):
        raise UserError(f"{key}={value!r}: expected true or false")
    if kind is int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise UserError(f"{key}={value!r}: expected an integer")
    if kind is float and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise UserError(f"{key}={value!r}: expected a number")
    if kind is int and value < 1:
        raise UserError(f"{key}={value}: expected an integer >= 1")
    name = key.rpartition(".")[2]
    if (name == "dropout" or name.endswith("_dropout")) and not 0 <= value < 1:
        raise UserError(f"{key}={value}: a dropout probability must be in [0, 1)")


def _check_divisible(head_name: str, big: str, small: str, options: dict, parameters: dict) -> None:
    def value(name):
        given = name in options
        return (options[name] if given else parameters[name].default), "" if given else " (default)"

    (whole, whole_note), (part, part_note) = value(big), value(small)
    if whole % part:
        raise UserError(f"{KEY}.{big}={whole}{whole_note} must be a multiple of {KEY}.{small}={part}{part_note} "
                        f"for head {head_name!r}")
