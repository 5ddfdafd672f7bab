"""orjson where its answer is exactly the standard library's, the standard library everywhere else.

Why: every item crosses JSON four to six times (request, job, result, response); with the standard library that
was a third of the worker's CPU per cheap item. orjson is several times faster but answers differently in a few
corners, and each corner is sent to the caller's standard-library path instead, so nothing a client sees changes:
- integers of 19 digits or more (orjson reads those past 64 bits as floats): never parsed by orjson;
- NaN and the infinities (orjson writes them as `null`): an output holding `null` is kept only when the value has
  no such float;
- lone surrogates, integers past 64 bits, non-string keys, nesting past orjson's limit: orjson refuses them, and
  the standard library takes over.
Without orjson installed (the SDK alone), everything takes the standard library's path.
"""

from __future__ import annotations

from typing import Any, Callable

try:
    import orjson
except ImportError:  # pragma: no cover - the server extra installs it
    orjson = None  # type: ignore[assignment]

_DIGIT_MAP = bytes(1 if ord("0") <= byte <= ord("9") else 0 for byte in range(256))
_LONG_RUN = b"\x01" * 19


def loads(data: bytes, slow: Callable[[bytes], Any]) -> Any:
    """The JSON value in `data`, as `slow(data)` would return it (`slow` raises what the caller expects)."""
    if orjson is not None and not _has_long_digit_run(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return slow(data)


def _has_long_digit_run(data: bytes) -> bool:
    """Whether `data` holds 19 digits in a row. A regular expression took 7x orjson's own parse time on a
    digit-heavy 4 KB task (it retries at every digit of a run); mapping digits to one byte and searching for the
    run is C all the way."""
    return _LONG_RUN in data.translate(_DIGIT_MAP)


def dumps(value: Any, slow: Callable[[Any], bytes], sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON of `value`: the JSON value `slow(value)` writes (numbers may be spelt differently,
    `1e-7` for `1e-07`, never with another value)."""
    if orjson is not None:
        try:
            data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
        except TypeError:
            return slow(value)
        if b"null" not in data or _all_finite(value):
            return data
    return slow(value)


def _all_finite(value: Any) -> bool:
    """Whether no float in `value` is NaN or infinite (for those, orjson writes `null`)."""
    kind = type(value)
    if kind is float:
        return value - value == 0.0
    if kind is dict:
        return all(map(_all_finite, value.values()))
    if kind is list or kind is tuple:
        return all(map(_all_finite, value))
    return True
