"""Exact numbers out of answer strings: integers, decimals, `a/b`, `\\frac{a}{b}`, as `fractions.Fraction`.

Regexes here run on an already extracted answer (bounded length) and have no nested quantifiers.
"""

from __future__ import annotations

import re
from fractions import Fraction

_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})
_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textrm)\{([^{}]*)\}")
_LATEX_NOISE = ("\\$", "$", "\\!", "\\,", "\\;", "\\ ", "\\left", "\\right", "\\%", "%")
_NUMBER = r"-?\s*(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|-?\s*\.\d+"
_NUMBER_RE = re.compile(rf"(?<![\d.])(?:{_NUMBER})")
_LATEX_FRACTION = re.compile(r"(-?)\s*\\[dt]?frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(-?\d+)\s*\}")
_SLASH_FRACTION = re.compile(r"(-?\s*\d+)\s*/\s*(-?\d+)")


def clean_number_text(text: str) -> str:
    """Drop what decorates a number in prose or LaTeX: `$`, `\\text{}`, thin spaces, `{,}` separators."""
    text = text.translate(_MINUS_SIGNS)
    for _ in range(3):
        text = _TEXT_WRAPPER.sub(r"\1", text)
    text = text.replace("{,}", ",")
    for noise in _LATEX_NOISE:
        text = text.replace(noise, "")
    return text.strip()


def decimal_to_fraction(token: str) -> Fraction:
    """`-1,234.50` -> Fraction(-2469, 2): exact, no floats."""
    return Fraction(token.replace(",", "").replace(" ", ""))


def _fraction(numerator: str, denominator: str, sign: str = "") -> Fraction | None:
    den = int(denominator.replace(" ", ""))
    if den == 0:
        return None
    value = Fraction(int(numerator.replace(" ", "")), den)
    return -value if sign == "-" else value


def first_number(text: str) -> Fraction | None:
    """The first number of an answer like `$1,000 dollars`, `18 cm`, `\\frac{3}{4}`; after the last `=` if any."""
    text = clean_number_text(text)
    if "=" in text:
        text = text.rsplit("=", 1)[1]
    latex = _LATEX_FRACTION.search(text)
    number = _NUMBER_RE.search(text)
    if latex and (number is None or latex.start() <= number.start()):
        return _fraction(latex.group(2), latex.group(3), latex.group(1))
    if number is None:
        return None
    slash = _SLASH_FRACTION.match(text, number.start())
    if slash:
        return _fraction(slash.group(1), slash.group(2))
    return decimal_to_fraction(number.group(0))


def exact_number(text: str) -> Fraction | None:
    """The value of an answer that is exactly one number (integer, decimal, `a/b`, `\\frac{a}{b}`), else None."""
    text = clean_number_text(text)
    if (m := _LATEX_FRACTION.fullmatch(text)) is not None:
        return _fraction(m.group(2), m.group(3), m.group(1))
    if (m := _SLASH_FRACTION.fullmatch(text)) is not None:
        return _fraction(m.group(1), m.group(2))
    if re.fullmatch(_NUMBER, text):
        return decimal_to_fraction(text)
    return None


def format_fraction(value: Fraction) -> str:
    """`7`, `-3/4`: how generated tasks state an exact answer."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
