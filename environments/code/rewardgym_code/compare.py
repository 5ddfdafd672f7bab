"""Comparators: is a program's output the expected one? Declared per task, chosen once, table-driven.

| comparator | rule |
|---|---|
| `tokens` (default) | whitespace-separated tokens equal, counts must match (spacing and line breaks are free) |
| `lines` | line by line, trailing whitespace of each line ignored, blank lines at the very end ignored; line counts must match |
| `exact` | the output is exactly the expected text |
| `float` | as `tokens`, but two numeric tokens match when within `tolerance` absolutely or relatively (to the expected) |

Each comparison says why it failed (`Comparison.message`), for the result's details.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Literal

ComparatorName = Literal["tokens", "lines", "exact", "float"]
DEFAULT_FLOAT_TOLERANCE = 1e-6

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""A decimal number token (no 'nan', 'inf', hex or '_' separators, which Python's float() would also take)."""

_SHOWN_CHARS = 60


@dataclass(frozen=True)
class Comparison:
    equal: bool
    message: str | None = None
    """Why not, e.g. "token 3: expected '5', got '6'"; None when equal."""


def compare(expected: str, actual: str, comparator: ComparatorName = "tokens", *,
            tolerance: float = DEFAULT_FLOAT_TOLERANCE) -> Comparison:
    """Compare a program's output with the expected output under one comparator."""
    if comparator == "float":
        return _compare_tokens(expected, actual, lambda e, a: numbers_match(e, a, tolerance))
    return _COMPARATORS[comparator](expected, actual)


def numbers_match(expected: str, actual: str, tolerance: float) -> bool:
    """Two tokens match if equal as text, or both finite decimal numbers within `tolerance`, absolute or relative
    to the expected value."""
    if expected == actual:
        return True
    if not (_NUMBER.fullmatch(expected) and _NUMBER.fullmatch(actual)):
        return False
    e, a = float(expected), float(actual)
    if not (math.isfinite(e) and math.isfinite(a)):
        return False
    return abs(e - a) <= tolerance or abs(e - a) <= tolerance * abs(e)


def _compare_tokens(expected: str, actual: str, same: Callable[[str, str], bool] = str.__eq__) -> Comparison:
    want, got = expected.split(), actual.split()
    for index, (e, a) in enumerate(zip(want, got), start=1):
        if not same(e, a):
            return Comparison(False, f"token {index}: expected {_show(e)}, got {_show(a)}")
    if len(want) != len(got):
        return Comparison(False, f"expected {len(want)} tokens, got {len(got)}")
    return Comparison(True)


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _compare_lines(expected: str, actual: str) -> Comparison:
    want, got = _lines(expected), _lines(actual)
    for index, (e, a) in enumerate(zip(want, got), start=1):
        if e != a:
            return Comparison(False, f"line {index}: expected {_show(e)}, got {_show(a)}")
    if len(want) != len(got):
        return Comparison(False, f"expected {len(want)} lines, got {len(got)}")
    return Comparison(True)


def _compare_exact(expected: str, actual: str) -> Comparison:
    if expected == actual:
        return Comparison(True)
    index = next((i for i, (e, a) in enumerate(zip(expected, actual)) if e != a), min(len(expected), len(actual)))
    return Comparison(False, f"first difference at character {index}: expected "
                             f"{_show(expected[index:index + 20])}, got {_show(actual[index:index + 20])}")


def _show(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


_COMPARATORS: dict[str, Callable[[str, str], Comparison]] = {
    "tokens": _compare_tokens,
    "lines": _compare_lines,
    "exact": _compare_exact,
}
