"""Helpers for the symbolic environments: parse an answer with math-verify, compare functions of one variable."""

from __future__ import annotations

import re
from typing import Any

import sympy
from sympy import Basic, Expr, Rational

from rewardgym.sdk import InvalidTask

from rewardgym_math.math_env import parse_latex_answer

PROBE_POINTS = (Rational(3, 10), Rational(7, 10), Rational(13, 10), Rational(-9, 10), Rational(21, 10))
EVAL_DIGITS = 30
NUMERIC_TOLERANCE = 1e-9


def parse_expression(latex: str) -> Expr | None:
    """One sympy expression from LaTeX (the right side of `F(x) = ...`), or None when it does not parse as one."""
    parsed = parse_latex_answer(latex)
    if not parsed:
        return None
    value: Any = parsed[0]
    if isinstance(value, sympy.Equality):
        value = value.rhs
    return value if isinstance(value, Expr) else None


def parse_gold(latex: str, what: str) -> Expr:
    value = parse_expression(latex)
    if value is None:
        raise InvalidTask(f"Expected {what} as LaTeX math-verify can parse, got {latex!r}")
    return value


def symbol_named(expr: Basic, name: str) -> sympy.Symbol:
    """The symbol called `name` in `expr` (the parser may attach assumptions), or a plain one."""
    for symbol in expr.free_symbols:
        if isinstance(symbol, sympy.Symbol) and symbol.name == name:
            return symbol
    return sympy.Symbol(name)


def unify_variable(expr: Expr, name: str, variable: sympy.Symbol) -> Expr:
    """Rename the symbol called `name` in `expr` to `variable`, so two parses share one symbol."""
    own = symbol_named(expr, name)
    return expr.subs(own, variable) if own != variable else expr


def numerically_nonzero(expr: Expr, variable: sympy.Symbol) -> bool:
    """True when `expr` is clearly non-zero at one of a few fixed points: a cheap filter before `simplify`."""
    for point in PROBE_POINTS:
        try:
            value = complex(expr.subs(variable, point).evalf(EVAL_DIGITS))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if value != value or abs(value) == float("inf"):
            continue
        if abs(value) > NUMERIC_TOLERANCE:
            return True
    return False


def is_zero(expr: Expr, variable: sympy.Symbol) -> bool:
    """Exactly zero as a function of `variable`: numeric filter first, then `simplify` (may be slow; the
    worker's deadline bounds it)."""
    if expr == 0:
        return True
    if numerically_nonzero(expr, variable):
        return False
    if sympy.expand(expr) == 0:
        return True
    simplified = sympy.simplify(expr)
    return simplified == 0 or bool(simplified.equals(0))


_CONSTANT_OF_INTEGRATION = re.compile(r"\s*\+\s*(?:C|c|K|C_\{?\d+\}?|\\text\{[Cc]\}|\\mathrm\{[Cc]\})\s*$")


def strip_constant(latex: str) -> str:
    """`x^2 + C` -> `x^2`: the constant of integration carries no information."""
    return _CONSTANT_OF_INTEGRATION.sub("", latex.strip().rstrip(".").strip())
