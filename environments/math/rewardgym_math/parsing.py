"""Parsing one normalized answer with math-verify, and a cheap size check that needs no evaluation.

- A trailing percent sign (or word) marks the whole expression as a percentage, so `\\frac{1}{2}\\%` is one half
  of a percent (math-verify's own parser accepts `\\%` only after a plain number).
- An equation with a lone variable on the right and none on the left is read the other way round: `2 = x` is the
  assignment `x = 2`, which math-verify compares with `2`.
- `sizes_differ` proves two numbers differ from their size alone, for answers built by products and powers (no
  sums, so nothing can cancel): `2^{2^{2^{49}}}` is not 1, decided without evaluating a number with 10^14 digits.
"""

from __future__ import annotations

import math
import re
from typing import Any

from latex2sympy2_extended.latex2sympy2 import convert_to_pct
from math_verify import LatexExtractionConfig, parse
from sympy import Basic, Float, Integer, Mul, Pow, Rational, Symbol
from sympy.core.relational import Equality

# Only a \boxed{} is looked for, and we always hand math-verify a boxed string we built: no anchorless fallback
# can pick up question text, and ExprExtractionConfig (which runs sympy's parse_expr) is never used.
BOXED_ONLY = (LatexExtractionConfig(boxed_match_priority=0, try_extract_without_anchor=False),)

HUGE_DIGITS = 300.0
"""Numbers with more digits than this are compared by size first (beyond a float, evaluation gets slow)."""

_TRAILING_PERCENT = re.compile(r"\s*\\?%\s*$")
_MAX_SIZE_DEPTH = 40


def parse_answer(latex: str) -> list[Any]:
    """Parse one normalized answer; [] when it does not parse.

    `parsing_timeout=None` because math-verify's timeout uses SIGALRM (main thread only): the worker's hard
    deadline bounds this call instead.
    """
    percent = _TRAILING_PERCENT.search(latex)
    body = latex[: percent.start()] if percent and percent.start() > 0 else latex
    parsed = parse("\\boxed{" + body + "}", extraction_config=BOXED_ONLY, fallback_mode="no_fallback",
                   parsing_timeout=None)
    if not parsed:
        return []
    value = parsed[0]
    if percent and body is not latex and isinstance(value, Basic) and value.is_number:
        value = convert_to_pct(value)
    return [_oriented(value), *parsed[1:]]


def _oriented(value: Any) -> Any:
    if (isinstance(value, Equality) and isinstance(value.rhs, Symbol) and not isinstance(value.lhs, Symbol)
            and not value.lhs.free_symbols):
        return Equality(value.rhs, value.lhs, evaluate=False)
    return value


def log10_size(value: Any, depth: int = 0) -> float | None:
    """log10 of |value| for numbers built by products and powers of numbers; None for anything else.

    Computed on the expression tree with floats (an overflow is `inf`), never by evaluating the number.
    """
    if depth > _MAX_SIZE_DEPTH:
        return None
    if isinstance(value, (Integer, Rational)) and value != 0:
        return _int_log10(abs(value.p)) - _int_log10(value.q)
    if isinstance(value, Float) and value != 0:
        return math.log10(abs(float(value))) if math.isfinite(float(value)) else None
    if isinstance(value, Mul):
        sizes = [log10_size(arg, depth + 1) for arg in value.args]
        return None if any(s is None for s in sizes) else math.fsum(sizes)  # type: ignore[arg-type]
    if isinstance(value, Pow):
        base, exponent = log10_size(value.base, depth + 1), _signed_value(value.exp, depth + 1)
        if base is None or exponent is None or base == 0.0:
            return None if base is None or exponent is None else 0.0
        product = base * exponent
        return None if math.isnan(product) else product
    return None


def _int_log10(number: int) -> float:
    if number < 10**300:
        return math.log10(number)
    return number.bit_length() * math.log10(2)  # within 0.31 of the true value: enough for a size check


def _signed_value(value: Any, depth: int) -> float | None:
    """The value of an exponent as a float (inf when it overflows), from its size and sign."""
    if isinstance(value, (Integer, Rational, Float)):
        if value == 0:
            return 0.0
        sign = -1.0 if value < 0 else 1.0
    elif isinstance(value, Basic) and value.is_number and value.is_positive:
        sign = 1.0
    else:
        return None
    size = log10_size(value, depth)
    if size is None:
        return None
    return sign * (math.inf if size > 300 else 10.0**size)


def sizes_differ(gold: Any, pred: Any) -> bool:
    """True when both are numbers whose sizes prove them different and one is too large to evaluate cheaply."""
    gold_size, pred_size = log10_size(gold), log10_size(pred)
    if gold_size is None or pred_size is None:
        return False
    if max(abs(gold_size), abs(pred_size)) < HUGE_DIGITS:
        return False
    if math.isinf(gold_size) and math.isinf(pred_size):
        return False
    return abs(gold_size - pred_size) > 1.0
