"""Rewrite an extracted answer (or a gold) into the LaTeX math-verify reads, one documented rule at a time.

Each rule fixes a way a right answer is written that the parser would misread or reject, and each applies to the
gold and to the prediction alike (see the README, "Normalization"). The input is an extracted answer (at most a
few thousand characters); every regex here is linear, with no nested quantifiers.
"""

from __future__ import annotations

import re
from fractions import Fraction

_TRAILING_SPACE_COMMANDS = re.compile(r"(?:\\[,;:! ]|\\q?quad|~|\\)\s*$")
_TRAILING_PUNCTUATION = ".,;:"

_TYPESET_GROUP_COMMA = re.compile(r"(?<=\d)(?:,\\!|\{\s*,\s*\}(?=\d{3}(?!\d)))(?=\d)")
_DECIMAL_BRACE_COMMA = re.compile(r"(?<=\d)\{\s*,\s*\}(?=\d)")
_SPACED_GROUPS = re.compile(r"(?<![\d.,^_])\d{1,3}(?:(?:\\[,;: ]|\\thinspace|~|\s)\d{3})+(?![\d])")
_GROUP_SEPARATOR = re.compile(r"\\[,;: ]|\\thinspace|~|\s")

_SCIENTIFIC = re.compile(r"(?<![\w.\\])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")
_REPEATING = re.compile(r"(?<![\d.])(-?)(\d*)\.(\d*)\\(?:overline|bar)\{(\d+)\}")
_MIXED_NUMBER = re.compile(r"([+-]?)(\d+)\s+(?:(\d+)/(\d+)|\\[dt]?frac\{(\d+)\}\{(\d+)\})")
_FONT_LETTER = re.compile(r"\\(?:mathcal|mathbb|mathbf|mathrm|mathit|mathsf|mathfrak|mathscr|boldsymbol)\{\s*([A-Za-z])\s*\}")
_PERCENT_WORD = re.compile(
    r"\s*(?:\\text\{\s*)?(?:percent|per\s?cent|pct|por\s?ciento|por\s?cento|pour\s?cent|prozent)\s*\}?\s*$", re.I
)
_PLAIN_SQRT = re.compile(r"(?<![\\\w])sqrt\s*\(")
_PLAIN_PI = re.compile(r"(?<![\\\w])pi(?![a-zA-Z])")
_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u00d7": "\\times ", "\u22c5": "\\cdot ", "\u00b7": "\\cdot ", "\u00f7": "\\div ",
    "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u00b0": "^{\\circ}", "\u2264": "\\le ", "\u2265": "\\ge ",
    "\u2260": "\\ne ", "\u221a": "\\sqrt", "\u2032": "'",
}
_PLUS_MINUS = re.compile(r"\\(?:pm|mp)")


def normalize_answer(text: str) -> str:
    """The answer with every rewriting rule applied, in a fixed order."""
    text = strip_trailing(text)
    text = plain_notation(text)
    text = join_digit_groups(text)
    text = _SCIENTIFIC.sub(lambda m: f"{m.group(1)}\\times10^{{{m.group(2)}}}", text)
    text = _REPEATING.sub(_repeating_to_fraction, text)
    text = _FONT_LETTER.sub(r"\1", text)
    text = _PERCENT_WORD.sub("\\\\%", text)
    text = mixed_number(text)
    return expand_plus_minus(text)


def strip_trailing(text: str) -> str:
    """Drop what ends a sentence, not an answer: `42.`, `\\frac{1}{3},`, `185\\ `, a dangling backslash.

    An ellipsis is kept: `1, 2, 3, ...` is not the answer `1, 2, 3`.
    """
    for _ in range(6):
        before = text
        text = _TRAILING_SPACE_COMMANDS.sub("", text.strip()).rstrip()
        while text and text[-1] in _TRAILING_PUNCTUATION and not text.endswith(".."):
            text = text[:-1].rstrip()
        if text == before:
            break
    return text


def plain_notation(text: str) -> str:
    """Plain-text and unicode math as LaTeX: `sqrt(3)`, `2**(1/4)`, `pi`, `74°`, `√2`, `×`, `−`."""
    for char, latex in _UNICODE.items():
        if char in text:
            text = text.replace(char, latex)
    text = text.replace("**", "^")
    if "sqrt" in text:
        text = _plain_calls(text)
    return _PLAIN_PI.sub("\\\\pi ", text) if "pi" in text else text


def _plain_calls(text: str) -> str:
    """`sqrt(x)` -> `\\sqrt{x}` when the parenthesis closes; otherwise left as it is (and will not parse)."""
    out: list[str] = []
    position = 0
    for match in _PLAIN_SQRT.finditer(text):
        if match.start() < position:
            continue
        close = _closing_paren(text, match.end())
        if close is None:
            continue
        out.append(text[position : match.start()])
        out.append("\\sqrt{" + text[match.end() : close] + "}")
        position = close + 1
    out.append(text[position:])
    return "".join(out)


def _closing_paren(text: str, start: int) -> int | None:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def join_digit_groups(text: str) -> str:
    """Thousands separators: `1 000`, `1\\,234`, `12\\,345\\,678`, `14{,}916`, `56,\\!01,\\!78` join their digits.

    `,\\!` and `{,}` before three digits are typesetting separators (MATH writes `12,\\!000`); `{,}` before
    other digit counts is a decimal comma (`3{,}14`). A space or thin space joins only groups of exactly three
    digits after a first group of one to three, so `1 2` stays two numbers. Plain commas are left to math-verify
    (`7,425,000` is a number, `1,2` a list).
    """
    text = _TYPESET_GROUP_COMMA.sub("", text)
    text = _DECIMAL_BRACE_COMMA.sub(".", text)
    return _SPACED_GROUPS.sub(lambda m: _GROUP_SEPARATOR.sub("", m.group(0)), text)


def _repeating_to_fraction(match: re.Match[str]) -> str:
    """`0.\\overline{142857}` -> `\\frac{1}{7}`, `0.1\\overline{6}` -> `\\frac{1}{6}`: the exact value."""
    sign, whole, fixed, repeat = match.groups()
    value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(repeat), (10 ** len(repeat) - 1) * 10 ** len(fixed))
    body = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    return f"-{body}" if sign else body


def mixed_number(text: str) -> str:
    """`3128 1/2` and `2 \\frac{1}{2}` (a whole number, a space, a proper fraction) -> `(3128+\\frac{1}{2})`.

    Only the whole answer, and only a proper fraction (numerator below denominator): `11 7/6` is not a mixed
    number and is left as written.
    """
    match = _MIXED_NUMBER.fullmatch(text.strip())
    if match is None:
        return text
    sign, whole = match.group(1), match.group(2)
    numerator, denominator = match.group(3) or match.group(5), match.group(4) or match.group(6)
    if int(denominator) == 0 or int(numerator) >= int(denominator):
        return text
    value = f"({whole}+\\frac{{{numerator}}}{{{denominator}}})"
    return f"-{value}" if sign == "-" else value


def expand_plus_minus(text: str) -> str:
    """`x = \\frac{-1 \\pm \\sqrt{13}}{4}` -> both solutions, `+` then `-`, as a comma list.

    Each top-level item of a comma list with exactly one `\\pm` (or `\\mp`) becomes two items; items with none
    or several are kept as written.
    """
    if "\\pm" not in text and "\\mp" not in text:
        return text
    items = split_top_level(text, ",")
    expanded: list[str] = []
    for item in items:
        signs = _PLUS_MINUS.findall(item)
        if len(signs) != 1:
            expanded.append(item)
            continue
        first, second = ("+", "-") if signs[0] == "\\pm" else ("-", "+")
        expanded.append(_PLUS_MINUS.sub(first, item))
        expanded.append(_PLUS_MINUS.sub(second, item))
    return ", ".join(part.strip() for part in expanded)


def split_top_level(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside (), [] and {} (and `\\{ \\}`)."""
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "{}":
            depth += 1 if text[index + 1] == "{" else -1
            index += 2
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return parts
