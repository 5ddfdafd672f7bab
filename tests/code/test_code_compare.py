"""The comparators, table-driven: each row is (comparator, expected, actual, equal)."""

from __future__ import annotations

import pytest

from rewardgym_code.compare import compare, numbers_match

TABLE = [
    # tokens: whitespace is free, tokens and their count are not
    ("tokens", "1 2 3\n", "1 2 3\n", True),
    ("tokens", "1 2 3\n", "1\n2\t3", True),
    ("tokens", "1 2 3", "  1   2 3  \n\n", True),
    ("tokens", "1 2 3", "1 2", False),
    ("tokens", "1 2", "1 2 3", False),
    ("tokens", "1 2 3", "1 2 4", False),
    ("tokens", "1.0", "1", False),
    ("tokens", "YES", "yes", False),
    ("tokens", "", "\n", True),
    # lines: trailing whitespace per line and blank lines at the end are ignored; line counts must match
    ("lines", "a b\nc\n", "a b\nc", True),
    ("lines", "a b\nc\n", "a b  \nc\t\n\n\n", True),
    ("lines", "a b\nc\n", "a b\r\nc\r\n", True),
    ("lines", "a b\nc\n", "a  b\nc\n", False),
    ("lines", "a b\nc\n", " a b\nc\n", False),
    ("lines", "a b\nc\n", "a b c\n", False),
    ("lines", "a\n\nb\n", "a\nb\n", False),
    ("lines", "a\nb\n", "a\nb\nc\n", False),
    # exact: byte for byte
    ("exact", "42\n", "42\n", True),
    ("exact", "42\n", "42", False),
    ("exact", "42\n", "42 \n", False),
    ("exact", "42\n", "42\r\n", False),
    # float: numeric tokens within 1e-6 absolutely or relatively, other tokens exactly
    ("float", "0.333333", "0.3333331", True),
    ("float", "0.333333", "0.333335", False),
    ("float", "1000000000", "1000000500", True),
    ("float", "1000000000", "1000002000", False),
    ("float", "1.5 x 2", "1.5000000001 x 2.0", True),
    ("float", "1.5 x 2", "1.5 y 2", False),
    ("float", "1e-9", "0", True),
    ("float", "3", "3.0000009", True),
    ("float", "3", "three", False),
    ("float", "nan", "nan", True),
    ("float", "1", "nan", False),
    ("float", "1", "inf", False),
    ("float", "1 2", "1", False),
    ("float", "-2.5", "-2.5e0", True),
    ("float", ".5", "0.5", True),
]


@pytest.mark.parametrize(("comparator", "expected", "actual", "equal"), TABLE)
def test_comparator_table(comparator, expected, actual, equal):
    result = compare(expected, actual, comparator)
    assert result.equal is equal, result.message
    assert (result.message is None) is equal


@pytest.mark.parametrize(("expected", "actual", "tolerance", "equal"), [
    ("1.0", "1.009", 1e-2, True),
    ("1.0", "1.011", 1e-2, False),
    ("100", "101", 1e-2, True),
    ("0", "0", 0.0, True),
    ("0.1", "0.10000001", 0.0, False),
])
def test_float_tolerance_is_configurable(expected, actual, tolerance, equal):
    assert compare(expected, actual, "float", tolerance=tolerance).equal is equal
    assert numbers_match(expected, actual, tolerance) is equal


@pytest.mark.parametrize(("comparator", "expected", "actual", "message"), [
    ("tokens", "1 2 3", "1 5 3", "token 2: expected '2', got '5'"),
    ("tokens", "1 2 3", "1 2", "expected 3 tokens, got 2"),
    ("lines", "a\nb\n", "a\nc\n", "line 2: expected 'b', got 'c'"),
    ("lines", "a\n", "a\nb\n", "expected 1 lines, got 2"),
    ("exact", "abc", "abd", "first difference at character 2: expected 'c', got 'd'"),
    ("float", "1.5", "1.6", "token 1: expected '1.5', got '1.6'"),
])
def test_mismatches_say_where(comparator, expected, actual, message):
    assert compare(expected, actual, comparator).message == message


def test_a_one_megabyte_token_is_compared_in_linear_time():
    token = "1" * 1_000_000
    assert compare(token + "x", token + "y", "float").equal is False
    assert compare(token, token + "0", "float").equal is False
