"""Text that may come from anywhere (a JSON `\\ud800` escape is a valid str in Python, but not encodable)."""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""In a Python str every surrogate is lone: JSON's escaped pairs are joined when the JSON is read."""


def replace_lone_surrogates(text: str) -> str:
    """`text` with each lone UTF-16 surrogate replaced by U+FFFD, so that it can be encoded as UTF-8."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)
