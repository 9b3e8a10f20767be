"""Value constraints declared next to a config option, checked when a config is loaded:

    lr: float = option(1e-3, help="peak learning rate", check=above(0))
    warmup: float = option(0.1, help="warmup share", check=between(0, 1, high_open=True))

A check returns None for a good value, else what was expected ("a number > 0"); the config layer
puts the key, the value and the place that set it in front (`erc_core.config`). None (an unset
Optional) is never checked."""

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None
    low_open: bool = False   # low itself is not allowed
    high_open: bool = False

    def problem(self, value) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None  # the type is the schema's job
        if math.isnan(value) or not self._holds(value):
            return f"expected {self.describe(isinstance(value, int))}"
        return None

    def _holds(self, value) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or (value < self.high or (not self.high_open and value == self.high))

    def describe(self, integer: bool = False) -> str:
        kind = "an integer" if integer else "a number"
        low, high = _number(self.low), _number(self.high)
        if self.low is not None and self.high is not None:
            return f"{kind} in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {low}"
        return f"{kind} {'<' if self.high_open else '<='} {high}"


@dataclass(frozen=True)
class OneOf:
    choices: tuple

    def problem(self, value) -> str | None:
        if str(value) in self.choices:
            return None
        return f"expected one of {', '.join(self.choices)}"

    def describe(self, integer: bool = False) -> str:
        return "|".join(self.choices)


@dataclass(frozen=True)
class Matches:
    pattern: str  # a regular expression the whole value must match
    what: str  # the allowed values in words

    def problem(self, value) -> str | None:
        return None if re.fullmatch(self.pattern, str(value)) else f"expected {self.what}"

    def describe(self, integer: bool = False) -> str:
        return self.what


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def at_least(low) -> Range:
    return Range(low=low)


def above(low) -> Range:
    return Range(low=low, low_open=True)


def between(low, high, *, low_open=False, high_open=False) -> Range:
    return Range(low, high, low_open, high_open)


def one_of(*choices) -> OneOf:
    return OneOf(tuple(str(choice) for choice in choices))


def matches(pattern: str, what: str) -> Matches:
    return Matches(pattern, what)
