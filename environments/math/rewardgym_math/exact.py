"""An exact second opinion on math-verify's `True`: remove its known false positives.

math-verify accepts some wrong answers: its numeric comparison evaluates `gold - pred` with `chop=True`, so values
within ~1e-15 of each other are "equal" (`1/2^98` vs `1/2^99`); it compares equations by solving them, so two
equations without (real) solutions are "equal" (`x^2=-1` vs `x^2=-4`, `1=2` vs `3=4`). `refutes(gold, pred)` is
asked only after math-verify said yes, and answers True when it can show the two differ:

- exact numbers: the difference evaluated to 60 significant digits is not negligible relative to the values;
- expressions with variables: the difference is clearly non-zero at one of a few fixed rational points;
- decimals: a relative error above `FLOAT_RELATIVE_TOLERANCE` (math-verify rounds to 6 places, absolute);
- equations and inequalities: `lhs - rhs` of one is not a constant multiple of the other's (sign-consistent for
  inequalities), unless both are assignments `x = ...` of the same variable, whose right sides are compared;
- sets, tuples, intervals, matrices: element by element;
- undefined values (`0/0`, `1/0`) equal nothing (math-verify says `0` equals `(4*0)/0`).

Percentages and bare symbols (`\\text{yes}`) are left to math-verify's own rules.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Basic, Float, Interval, MatrixBase, Number, Rational, Symbol, Tuple
from sympy.core.relational import Equality, Relational
from sympy.sets.sets import Set

from math_verify.grader import get_pct_val

EVAL_DIGITS = 60
EXACT_RELATIVE_TOLERANCE = sympy.Float("1e-40", EVAL_DIGITS)
SYMBOLIC_RELATIVE_TOLERANCE = sympy.Float("1e-25", EVAL_DIGITS)
FLOAT_RELATIVE_TOLERANCE = 1e-5
PROBE_POINTS = (Rational(7, 13), Rational(-11, 17), Rational(23, 9))


def refutes(gold: Any, pred: Any) -> bool:
    """True when `pred` provably differs from `gold` (both sympy objects from math-verify's `parse`)."""
    try:
        return _refutes(gold, pred)
    except (TypeError, ValueError, AttributeError, ArithmeticError, NotImplementedError, RecursionError):
        return False


def _refutes(gold: Any, pred: Any) -> bool:
    if not isinstance(gold, (Basic, MatrixBase)) or not isinstance(pred, (Basic, MatrixBase)):
        return False
    gold_is_rel, pred_is_rel = isinstance(gold, Relational), isinstance(pred, Relational)
    if gold_is_rel and pred_is_rel:
        return _relations_differ(gold, pred)
    if pred_is_rel and _is_assignment(pred):
        return _refutes(gold, pred.rhs)
    if gold_is_rel and _is_assignment(gold):
        return _refutes(gold.rhs, pred)
    if gold_is_rel or pred_is_rel:
        return False
    if isinstance(gold, MatrixBase) and isinstance(pred, MatrixBase):
        if gold.shape != pred.shape:
            return False
        return any(_refutes(g, p) for g, p in zip(gold, pred))
    if isinstance(gold, Interval) and isinstance(pred, Interval):
        return _refutes(gold.start, pred.start) or _refutes(gold.end, pred.end)
    if _is_collection(gold) and _is_collection(pred):
        return _collections_differ(list(gold.args), list(pred.args), ordered=isinstance(gold, Tuple) and isinstance(pred, Tuple))
    if _is_collection(gold) or _is_collection(pred) or isinstance(gold, Set) or isinstance(pred, Set):
        return False
    if get_pct_val(gold) is not None or get_pct_val(pred) is not None:
        return False
    if isinstance(gold, Symbol) or isinstance(pred, Symbol):
        return False
    return _expressions_differ(gold, pred)


def _is_collection(value: Basic) -> bool:
    return isinstance(value, (Tuple, sympy.FiniteSet)) or type(value).__name__ == "FiniteSet"


def _is_assignment(rel: Relational) -> bool:
    return isinstance(rel, Equality) and isinstance(rel.lhs, Symbol)


def _collections_differ(golds: list[Any], preds: list[Any], *, ordered: bool) -> bool:
    """Different sizes, or (order-free) some gold element that every remaining prediction refutes."""
    if len(golds) != len(preds):
        return False  # math-verify has its own rules for these; only same-size collections are re-checked
    if ordered:
        return any(_refutes(g, p) for g, p in zip(golds, preds))
    remaining = list(preds)
    for g in golds:
        match = next((i for i, p in enumerate(remaining) if not _refutes(g, p)), None)
        if match is None:
            return True
        remaining.pop(match)
    return False


def _relations_differ(gold: Relational, pred: Relational) -> bool:
    if _is_assignment(gold) and _is_assignment(pred):
        return gold.lhs != pred.lhs or _refutes(gold.rhs, pred.rhs)
    gold_diff, pred_diff = gold.lhs - gold.rhs, pred.lhs - pred.rhs
    if not gold_diff.free_symbols and not pred_diff.free_symbols:
        # Relations between constants: compare side by side, in either orientation.
        straight = not (_refutes(gold.lhs, pred.lhs) or _refutes(gold.rhs, pred.rhs))
        flipped = not (_refutes(gold.lhs, pred.rhs) or _refutes(gold.rhs, pred.lhs))
        return not (straight or flipped)
    if gold_diff == 0 or pred_diff == 0:
        return True
    ratio = sympy.cancel(sympy.together(pred_diff / gold_diff))
    if ratio.free_symbols or not ratio.is_number or ratio == 0:
        return True
    if isinstance(gold, Equality) and isinstance(pred, Equality):
        return False
    same_direction = type(gold) is type(pred)
    return bool(ratio.is_positive) != same_direction


def _undefined(value: Basic) -> bool:
    """0/0, 1/0 and the like: math-verify says `0` equals `(4*0)/0`; an undefined value equals no answer."""
    evaluated = value.evalf(EVAL_DIGITS)
    return evaluated.has(sympy.nan, sympy.zoo)


def _expressions_differ(gold: Basic, pred: Basic) -> bool:
    if not gold.free_symbols and not pred.free_symbols and (_undefined(gold) or _undefined(pred)):
        return True  # identical undefined answers (`12:00`) were already accepted by their text
    if gold.has(Float) or pred.has(Float):
        return _floats_differ(gold, pred)
    symbols = sorted(gold.free_symbols | pred.free_symbols, key=str)
    if not symbols:
        return _numbers_differ(gold, pred)
    for shift, _ in enumerate(PROBE_POINTS):
        point = {s: PROBE_POINTS[(i + shift) % len(PROBE_POINTS)] + i for i, s in enumerate(symbols)}
        if _numbers_differ(gold.subs(point), pred.subs(point), tolerance=SYMBOLIC_RELATIVE_TOLERANCE):
            return True
    return False


def _numbers_differ(gold: Basic, pred: Basic, tolerance: sympy.Float = EXACT_RELATIVE_TOLERANCE) -> bool:
    difference = gold - pred
    if difference == 0:
        return False
    if isinstance(difference, Number) and difference.is_finite:
        return True
    value = difference.evalf(EVAL_DIGITS)
    scale = max(abs(gold.evalf(EVAL_DIGITS)), abs(pred.evalf(EVAL_DIGITS)))
    if not (value.is_number and scale.is_number and value.is_finite and scale.is_finite):
        return False
    if value.is_real is False or scale.is_real is False:
        return bool(abs(value) > tolerance * max(abs(scale), 1))
    if abs(value) > tolerance * scale:
        return True
    return False


def _floats_differ(gold: Basic, pred: Basic) -> bool:
    if gold.free_symbols or pred.free_symbols:
        return False
    g, p = complex(gold.evalf(30)), complex(pred.evalf(30))
    return abs(g - p) > FLOAT_RELATIVE_TOLERANCE * max(abs(g), abs(p))
