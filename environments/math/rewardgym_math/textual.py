"""Verdicts the answers' text settles before math-verify parses anything (see the README, "Comparison").

- identical text (after spacing is removed) is equal: `12:00` == `12:00` although both parse to 12/0;
- choice labels: a lone capital letter is a label, compared as a label: `C` == `(C)` == `C. x = 42`, `E` != `E'`;
- the precision rule: a decimal gold is compared at the precision it states: `3.14` accepts `3.14159`,
  `2.71828182` does not accept `2.71828183`, `1.5\\times10^{-8}` accepts `1.50\\times10^{-8}`;
- number lists: a list is a set of solutions when both sides list it in sorted order (ascending or
  descending); a permutation that is not sorted is read as an ordered answer (`4, 10, -2` != `10, 4, -2`).

Each function returns True / False when the rule decides, and None when it does not apply.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rewardgym_math.normalize import split_top_level

_SPACING = re.compile(r"\s+|\\[,;:! ]|\\left|\\right|\\q?quad")
_WRAPPER = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|mathit|mbox)\s*\{([^{}]*)\}")
_LONE_LABEL = re.compile(r"\(?([A-Z])\)?('*)|\[([A-Z])\]")
_LEADING_LABEL = re.compile(r"\(?([A-Z])(?:\)|[.:])\s+\S")
_NUMBER = re.compile(r"([+-]?)(\d*)(?:\.(\d+))?(?:\s*(?:\\times|\\cdot)\s*10\s*\^\s*\{?([+-]?\d+)\}?)?")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[A-Za-z]")


def identical(gold: str, pred: str) -> bool:
    """True when the two answers are the same text once spacing commands and whitespace are removed."""
    return _SPACING.sub("", gold) == _SPACING.sub("", pred)


def _unwrap(text: str) -> str:
    for _ in range(3):
        text = _WRAPPER.sub(r"\1", text)
    return text.replace("$", "").replace("*", "").strip().rstrip(".").strip()


def lone_label(text: str) -> tuple[str, str] | None:
    """`C`, `(C)`, `\\text{(C)}`, `E'` -> (letter, primes); anything else -> None."""
    match = _LONE_LABEL.fullmatch(_unwrap(text))
    if match is None:
        return None
    return (match.group(1) or match.group(3), match.group(2) or "")


def leading_label(text: str) -> tuple[str, str] | None:
    """The label that opens a choice written out: `C. x = 42`, `(C) 42`, `C: 42` -> ("C", "")."""
    match = _LEADING_LABEL.match(_unwrap(text))
    return (match.group(1), "") if match else None


def label_verdict(gold: str, pred: str) -> bool | None:
    """When either side is a lone capital letter, compare the labels; None when neither is one."""
    gold_label, pred_label = lone_label(gold), lone_label(pred)
    if gold_label is None and pred_label is None:
        return None
    if gold_label is not None and pred_label is not None:
        return gold_label == pred_label
    label, other = (gold_label, pred) if gold_label is not None else (pred_label, gold)
    other_label = leading_label(other)
    if other_label is not None:
        return other_label == label
    if re.fullmatch(r"[a-z]'*", unwrapped := _unwrap(other)):
        return (unwrapped[0].upper(), unwrapped[1:]) == label  # `b` names the choice `B`
    if _HAS_DIGIT.search(other) and not _HAS_LETTER.search(_unwrap(other)):
        return False  # a letter is never a number (math-verify reads `E` as Euler's number)
    return None


def decimal_value(text: str) -> tuple[Fraction, Fraction, bool] | None:
    """(value, place of the last digit written, has a decimal point) of a plain or scientific number."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None or not (match.group(2) or match.group(3)):
        return None
    sign, whole, fraction, exponent = match.groups()
    digits = fraction or ""
    value = Fraction(int((whole or "0") + digits), 10 ** len(digits))
    scale = Fraction(10) ** int(exponent or "0")
    value = -value * scale if sign == "-" else value * scale
    return value, scale / 10 ** len(digits), fraction is not None


def precision_verdict(gold: str, pred: str) -> bool | None:
    """The precision rule, when the gold is a decimal and the prediction a plain or scientific number."""
    gold_number, pred_number = decimal_value(gold), decimal_value(pred)
    if gold_number is None or pred_number is None or not gold_number[2]:
        return None
    gold_value, gold_place, _ = gold_number
    pred_value, pred_place, _ = pred_number
    if pred_place > gold_place:
        return pred_value == gold_value  # stated less precisely than the gold: only an equal value will do
    return abs(pred_value - gold_value) * 2 <= gold_place


def _number_list(text: str) -> list[Fraction] | None:
    stripped = text.strip()
    if not stripped or stripped[0] in "({[\\":
        return None
    items = split_top_level(stripped, ",")
    if len(items) < 2 or all(len(item.strip()) == 3 for item in items[1:]):
        return None  # `1,000` reads as a number, not a list
    values = []
    for item in items:
        number = decimal_value(item)
        if number is None:
            return None
        values.append(number[0])
    return values


def _sorted_either_way(values: list[Fraction]) -> bool:
    return values == sorted(values) or values == sorted(values, reverse=True)


def order_verdict(gold: str, pred: str) -> bool | None:
    """False when two number lists hold the same numbers in different orders and either is not sorted."""
    gold_list, pred_list = _number_list(gold), _number_list(pred)
    if gold_list is None or pred_list is None or gold_list == pred_list:
        return None
    if sorted(gold_list) != sorted(pred_list):
        return None
    if _sorted_either_way(gold_list) and _sorted_either_way(pred_list):
        return None
    return False


def text_verdict(gold: str, pred: str) -> bool | None:
    """The first rule above that decides, in the order identity, labels, precision, list order."""
    if identical(gold, pred):
        return True
    for rule in (label_verdict, precision_verdict, order_verdict):
        decided = rule(gold, pred)
        if decided is not None:
            return decided
    return None
