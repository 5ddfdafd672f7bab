"""Checking model-written expressions before any reasoning-gym scorer parses them, and exact arithmetic.

Several reasoning-gym scorers hand the model's answer to `eval` or to sympy's `parse_expr` (which calls `eval`).
We never let raw model text reach either (DESIGN.md invariant 8): an answer must first parse as a Python
expression made only of numbers, the arithmetic operators and names from a short list of math symbols and
functions. Anything else is a wrong answer, decided here, without running it.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

MAX_EXPRESSION_CHARS = 20_000
"""Longer answers are refused unparsed: no expected answer is near this long."""

MATH_FUNCTIONS = frozenset({
    "sqrt", "exp", "log", "ln", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "acot",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "Abs", "Integral", "erf", "factorial",
})
MATH_CONSTANTS = frozenset({"pi", "E", "I", "oo"})

_ARITHMETIC_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_SINGLE_LETTER = re.compile(r"[A-Za-z]")


class UnsafeExpression(ValueError):
    """The answer is not a plain math expression; the message says what was found."""


def parse_expression(text: str) -> ast.expr:
    if len(text) > MAX_EXPRESSION_CHARS:
        raise UnsafeExpression(f"Expected an expression of at most {MAX_EXPRESSION_CHARS} characters, got {len(text)}")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeExpression(f"Expected a math expression, got {text[:80]!r}") from exc


def check_math_expression(text: str) -> None:
    """Raise `UnsafeExpression` unless `text` is numbers, + - * / **, single-letter variables, `MATH_CONSTANTS`
    and calls of `MATH_FUNCTIONS` (positional arguments only): what sympy can then parse without running code."""
    for node in ast.walk(parse_expression(text)):
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise UnsafeExpression(f"Expected numbers only as literals, got {node.value!r}")
        elif isinstance(node, ast.Name):
            if not (_SINGLE_LETTER.fullmatch(node.id) or node.id in MATH_CONSTANTS or node.id in MATH_FUNCTIONS):
                raise UnsafeExpression(f"Expected single-letter variables or known math names, got {node.id!r}")
        elif isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in MATH_FUNCTIONS) or node.keywords:
                raise UnsafeExpression(f"Expected calls of {sorted(MATH_FUNCTIONS)} only")
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _ARITHMETIC_OPERATORS):
                raise UnsafeExpression(f"Expected + - * / ** only, got {type(node.op).__name__}")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise UnsafeExpression(f"Expected unary + or - only, got {type(node.op).__name__}")
        elif not isinstance(node, (ast.Load, ast.operator, ast.unaryop)):
            raise UnsafeExpression(f"Expected a math expression, got a {type(node).__name__}")


def literal_only_eval(text: str) -> object:
    """A stand-in for `eval` in scorers that only mean to read a Python literal (a list of strings, a matrix)."""
    if not isinstance(text, str) or len(text) > 100_000:
        raise ValueError("Expected a literal of at most 100,000 characters")
    return ast.literal_eval(text.strip())


def exact_value(text: str) -> tuple[Fraction, list[int]]:
    """The exact value of an expression of integer literals, + - * / and parentheses, and the literals it uses.

    Raises `UnsafeExpression` for anything else (powers, names, decimals) and `ZeroDivisionError`.
    """
    used: list[int] = []
    # An explicit stack instead of recursion: parse_expression already bounds the size.
    node_values: dict[int, Fraction] = {}
    order = list(ast.walk(parse_expression(text)))
    for node in reversed(order):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            used.append(node.value)
            node_values[id(node)] = Fraction(node.value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = node_values[id(node.operand)]
            node_values[id(node)] = -operand if isinstance(node.op, ast.USub) else operand
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            left, right = node_values[id(node.left)], node_values[id(node.right)]
            node_values[id(node)] = _apply(node.op, left, right)
        elif not isinstance(node, (ast.operator, ast.unaryop, ast.Load)):
            raise UnsafeExpression(f"Expected integers, + - * / and parentheses only, got a {type(node).__name__}")
    return node_values[id(order[0])], used


def _apply(op: ast.operator, left: Fraction, right: Fraction) -> Fraction:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    return left / right
