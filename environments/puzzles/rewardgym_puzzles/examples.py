"""The catalogue's worked examples, generated once and stored in examples.json next to this module.

A worker computes every environment's catalogue entry when it starts, and generating the 97 examples builds 97
reasoning-gym datasets (some load word lists, fonts or ARC task files): seconds of start-up in a process that never
scores. The stored examples are exactly what `generate` gives for `random.Random(0)` at the easiest served
difficulty; tests/puzzles check that, so the file cannot go stale silently. Regenerate it with

    .venv/bin/python -m rewardgym_puzzles
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("examples.json")


@functools.lru_cache(maxsize=1)
def stored_examples() -> dict[str, dict[str, Any]]:
    """`{env name: {"task": ..., "completion": ...}}`; empty when the file is missing."""
    if not PATH.exists():
        return {}
    return json.loads(PATH.read_text())
