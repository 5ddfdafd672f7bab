"""The fast JSON path gives the standard library's value in every corner where orjson answers differently."""

import json
import math

import pytest

from rewardgym import json_codec


def slow_loads(data: bytes):
    return json.loads(data)


def slow_dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True, separators=(",", ":")).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("text", [
    b'{"a": 1, "b": [1.5, "x", null, true]}',
    b'{"big": 123456789012345678901234567890}',
    b'{"neg": -99999999999999999999}',
    b'[NaN, Infinity, -Infinity]',
    b'1e999',
    b'"\\ud800 lone"',
    b'"\\ud83d\\ude00 pair"',
    '"caf\u00e9"'.encode(),
])
def test_loads_gives_the_standard_librarys_value(text):
    fast, slow = json_codec.loads(text, slow_loads), slow_loads(text)
    assert type(fast) is type(slow)
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)


def test_big_integers_stay_integers():
    assert json_codec.loads(b'{"n": 12345678901234567890123}', slow_loads)["n"] == 12345678901234567890123


@pytest.mark.parametrize("value", [
    {"a": None, "b": float("inf")},
    {"a": None, "nested": [{"x": -float("inf")}]},
    [float("nan"), None],
    {"a": None, "b": 1.5},
    {"lone": "\ud800"},
    {1: "int key"},
    {"big": 10**30},
    {"tiny": 1e-7, "s": "null inside a string"},
])
def test_dumps_gives_the_standard_librarys_value(value):
    fast = json_codec.dumps(value, slow_dumps)
    decoded = json.loads(fast.decode("utf-8", "surrogatepass"))
    expected = json.loads(slow_dumps(value).decode("utf-8", "surrogatepass"))
    assert repr(decoded) == repr(expected)  # repr: NaN != NaN, but their reprs match


def test_a_non_finite_float_is_never_written_as_null():
    assert b"Infinity" in json_codec.dumps({"t": None, "x": math.inf}, slow_dumps)


def test_deep_nesting_falls_back_to_the_standard_library():
    value: object = 1
    for _ in range(400):
        value = [value]
    assert json_codec.dumps(value, slow_dumps) == slow_dumps(value)
