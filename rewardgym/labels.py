"""How a trainer's per-prompt label becomes a task payload: one rule for the client's adapters (TRL, verl) and the
gateway's OpenRLHF route. Standard library only, like the rest of the SDK's top level.

A dict is the task itself (fields a dataset filled with None are dropped: Arrow gives every row of a struct column
every key); a string holding a JSON object is parsed; anything else is the gold answer, `{"answer": str(label)}`,
the field every answer-checking environment (math, gsm8k, arithmetic, ...) names its gold.
"""

from __future__ import annotations

import json
from typing import Any

ANSWER_FIELD = "answer"


def task_from_label(label: Any, answer_field: str = ANSWER_FIELD) -> dict[str, Any]:
    if isinstance(label, dict):
        return {key: value for key, value in label.items() if value is not None}
    if label is None:
        raise ValueError("Expected a task, its JSON or a gold answer as the label, got None")
    if isinstance(label, str):
        text = label.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        return {answer_field: label}
    return {answer_field: str(label)}
